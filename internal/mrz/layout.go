package mrz

// charKind is what a position may hold, deciding which OCR confusions can
// be corrected there.
type charKind uint8

const (
	numeric charKind = iota // dates and check digits: 0-9 and '<'
	alnum                   // document numbers, optional data
)

// span is [start, end) of one line.
type span struct{ line, start, end int }

// pos is one character position.
type pos struct{ line, at int }

// checkDef is one check digit: the spans it covers, where it is printed,
// and which covered positions a correction may change.
type checkDef struct {
	name  string
	data  []span
	kind  charKind // of the data (the digit itself is always numeric)
	date  bool     // the data is a YYMMDD date
	digit pos
	// fixable limits the positions a correction may change (nil: all of
	// data). The composite may only change what no other check covers.
	fixable []span
}

func (c checkDef) text(b [][]byte) string {
	var s []byte
	for _, sp := range c.data {
		s = append(s, b[sp.line][sp.start:sp.end]...)
	}
	return string(s)
}

func (c checkDef) valid(b [][]byte) bool {
	data := c.text(b)
	if c.date && !plausibleDate(data) {
		return false
	}
	return checkMatches(data, b[c.digit.line][c.digit.at])
}

// layout describes one format.
type layout struct {
	checks func(b [][]byte) []checkDef
	fields func(m *MRZ, b [][]byte)
}

var layouts = map[Format]layout{
	TD1:  {checks: td1Checks, fields: td1Fields},
	TD2:  {checks: twoLineChecks(36, false), fields: twoLineFields(36, false)},
	TD3:  {checks: twoLineChecks(44, false), fields: twoLineFields(44, false)},
	MRVA: {checks: twoLineChecks(44, true), fields: twoLineFields(44, true)},
	MRVB: {checks: twoLineChecks(36, true), fields: twoLineFields(36, true)},
}

// longNumber finds a document number longer than 9 characters (TD1, TD2:
// Part 5 §4.2.2, Part 6 §4.2.2): the check digit position holds '<', the
// number goes on in the optional data and ends with its check digit.
// It returns the extension's span and the check digit's position.
func longNumber(b [][]byte, numCheck pos, opt span) (ext span, digit pos, ok bool) {
	if b[numCheck.line][numCheck.at] != '<' {
		return span{}, pos{}, false
	}
	l := b[opt.line]
	end := opt.start
	for end < opt.end && l[end] != '<' {
		end++
	}
	if end-opt.start < 2 {
		return span{}, pos{}, false
	}
	return span{opt.line, opt.start, end - 1}, pos{opt.line, end - 1}, true
}

func documentNumberCheck(b [][]byte, num span, numCheck pos, opt span) checkDef {
	c := checkDef{name: CheckDocumentNumber, data: []span{num}, kind: alnum, digit: numCheck}
	if ext, d, ok := longNumber(b, numCheck, opt); ok {
		c.data = []span{num, ext}
		c.digit = d
	}
	return c
}

func documentNumber(b [][]byte, num span, numCheck pos, opt span) (number string, optStart int) {
	n := string(b[num.line][num.start:num.end])
	if ext, d, ok := longNumber(b, numCheck, opt); ok {
		return trim([]byte(n + string(b[ext.line][ext.start:ext.end]))), d.at + 1
	}
	return trim([]byte(n)), opt.start
}

// td1Checks: ICAO 9303 Part 5 §4.2.2.
func td1Checks(b [][]byte) []checkDef {
	return []checkDef{
		documentNumberCheck(b, span{0, 5, 14}, pos{0, 14}, span{0, 15, 30}),
		{name: CheckDateOfBirth, data: []span{{1, 0, 6}}, kind: numeric, date: true, digit: pos{1, 6}},
		{name: CheckExpiryDate, data: []span{{1, 8, 14}}, kind: numeric, date: true, digit: pos{1, 14}},
		{name: CheckComposite, data: []span{{0, 5, 30}, {1, 0, 7}, {1, 8, 15}, {1, 18, 29}}, kind: alnum,
			digit: pos{1, 29}, fixable: optionalSpans(b, []span{{0, 15, 30}, {1, 18, 29}}, pos{0, 14})},
	}
}

func td1Fields(m *MRZ, b [][]byte) {
	m.DocumentCode = trim(b[0][0:2])
	m.IssuingState = trim(b[0][2:5])
	var optStart int
	m.DocumentNumber, optStart = documentNumber(b, span{0, 5, 14}, pos{0, 14}, span{0, 15, 30})
	m.OptionalData = trim(b[0][optStart:30])
	m.DateOfBirth = string(b[1][0:6])
	m.Sex = string(b[1][7:8])
	m.ExpiryDate = string(b[1][8:14])
	m.Nationality = trim(b[1][15:18])
	m.OptionalData2 = trim(b[1][18:29])
	m.Surname, m.GivenNames = names(b[2])
}

// optionalSpans is the part of the optional data no other check covers:
// without the long document number's extension and check digit.
func optionalSpans(b [][]byte, opts []span, numCheck pos) []span {
	out := append([]span(nil), opts...)
	if _, d, ok := longNumber(b, numCheck, opts[0]); ok {
		out[0].start = d.at + 1
	}
	return out
}

// twoLineChecks: TD2 (Part 6), TD3 (Part 4), MRV-A and MRV-B (Part 7),
// whose second lines share positions 1-28; visas have no optional data
// check and no composite.
func twoLineChecks(n int, visa bool) func(b [][]byte) []checkDef {
	return func(b [][]byte) []checkDef {
		opt := span{1, 28, n - 1}
		var num checkDef
		if n == 36 && !visa {
			num = documentNumberCheck(b, span{1, 0, 9}, pos{1, 9}, opt)
		} else {
			num = checkDef{name: CheckDocumentNumber, data: []span{{1, 0, 9}}, kind: alnum, digit: pos{1, 9}}
		}
		cs := []checkDef{
			num,
			{name: CheckDateOfBirth, data: []span{{1, 13, 19}}, kind: numeric, date: true, digit: pos{1, 19}},
			{name: CheckExpiryDate, data: []span{{1, 21, 27}}, kind: numeric, date: true, digit: pos{1, 27}},
		}
		if visa {
			return cs
		}
		composite := checkDef{name: CheckComposite, data: []span{{1, 0, 10}, {1, 13, 20}, {1, 21, n - 1}},
			kind: alnum, digit: pos{1, n - 1}}
		if n == 44 {
			cs = append(cs, checkDef{name: CheckOptionalData, data: []span{{1, 28, 42}}, kind: alnum, digit: pos{1, 42}})
			composite.fixable = []span{}
		} else {
			composite.fixable = optionalSpans(b, []span{opt}, pos{1, 9})
		}
		return append(cs, composite)
	}
}

func twoLineFields(n int, visa bool) func(m *MRZ, b [][]byte) {
	return func(m *MRZ, b [][]byte) {
		m.DocumentCode = trim(b[0][0:2])
		m.IssuingState = trim(b[0][2:5])
		m.Surname, m.GivenNames = names(b[0][5:n])
		optEnd := n - 1
		if n == 44 && !visa {
			optEnd = 42
		}
		if visa {
			optEnd = n
		}
		optStart := 28
		if n == 36 && !visa {
			m.DocumentNumber, optStart = documentNumber(b, span{1, 0, 9}, pos{1, 9}, span{1, 28, n - 1})
		} else {
			m.DocumentNumber = trim(b[1][0:9])
		}
		m.Nationality = trim(b[1][10:13])
		m.DateOfBirth = string(b[1][13:19])
		m.Sex = string(b[1][20:21])
		m.ExpiryDate = string(b[1][21:27])
		m.OptionalData = trim(b[1][optStart:optEnd])
	}
}
