package mrz

import (
	"fmt"
	"strconv"
	"time"
)

// plausibleDate reports whether s is YYMMDD with a month 01-12 and a day
// 01-31; '<' stands for an unknown part (ICAO 9303 Part 3 §4.4.1).
func plausibleDate(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < 6; i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '<' {
			return false
		}
	}
	part := func(i int) (int, bool) {
		if s[i] == '<' || s[i+1] == '<' {
			return 0, false
		}
		return int(s[i]-'0')*10 + int(s[i+1]-'0'), true
	}
	if m, ok := part(2); ok && (m < 1 || m > 12) {
		return false
	}
	if d, ok := part(4); ok && (d < 1 || d > 31) {
		return false
	}
	return true
}

// DateKind selects the century rule of Date.
type DateKind int

const (
	// Birth dates lie in the past: a two-digit year after now's is in the
	// previous century.
	Birth DateKind = iota
	// Expiry dates lie at most 50 years in the future (passports run 10;
	// the margin keeps 1990s visas in their century).
	Expiry
)

// Date turns YYMMDD into a calendar date, choosing the century by kind
// relative to now. It fails on unknown parts ('<') and impossible dates
// (30 February).
func Date(yymmdd string, kind DateKind, now time.Time) (time.Time, error) {
	if len(yymmdd) != 6 {
		return time.Time{}, fmt.Errorf("mrz: date %q: want YYMMDD", yymmdd)
	}
	v, err := strconv.Atoi(yymmdd)
	if err != nil || v < 0 {
		return time.Time{}, fmt.Errorf("mrz: date %q: not all digits", yymmdd)
	}
	yy, mm, dd := v/10000, v/100%100, v%100
	year := now.Year()/100*100 + yy
	switch kind {
	case Birth:
		if year > now.Year() {
			year -= 100
		}
	case Expiry:
		if year > now.Year()+50 {
			year -= 100
		} else if year < now.Year()-50 {
			year += 100
		}
	}
	t := time.Date(year, time.Month(mm), dd, 0, 0, 0, 0, time.UTC)
	if t.Month() != time.Month(mm) || t.Day() != dd {
		return time.Time{}, fmt.Errorf("mrz: date %q: no such day", yymmdd)
	}
	return t, nil
}
