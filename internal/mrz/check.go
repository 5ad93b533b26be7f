package mrz

// charValue is a character's value in the ICAO 9303 check digit: digits
// their value, A-Z 10-35, the filler '<' 0. ok is false for anything else.
func charValue(c byte) (v int, ok bool) {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0'), true
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10, true
	case c == '<':
		return 0, true
	}
	return 0, false
}

// CheckDigit computes the ICAO 9303 Part 3 §4.9 check digit of s: the sum
// of the character values weighted 7, 3, 1, 7, 3, 1, ... modulo 10. ok is
// false when s holds a character outside A-Z, 0-9 and '<'.
func CheckDigit(s string) (digit byte, ok bool) {
	weights := [3]int{7, 3, 1}
	sum := 0
	for i := 0; i < len(s); i++ {
		v, ok := charValue(s[i])
		if !ok {
			return 0, false
		}
		sum += v * weights[i%3]
	}
	return byte('0' + sum%10), true
}

// checkMatches reports whether check is the check digit of data. A filler
// check character stands for 0 only when the data is all fillers (Part 3
// §4.9: an empty optional field may carry '<' as its check digit).
func checkMatches(data string, check byte) bool {
	if check == '<' {
		for i := 0; i < len(data); i++ {
			if data[i] != '<' {
				return false
			}
		}
		return true
	}
	d, ok := CheckDigit(data)
	return ok && d == check
}
