package mrz

// parseRead decides every character of lines read by OCR, laid out as f
// and fitted to its length, and parses the result (see ReadGlyphs).
func parseRead(f Format, gs [][]Glyph) *MRZ {
	tmpl := template(f)
	b := make([][]byte, len(gs))
	allowed := make([][]byte, len(gs))
	for i, l := range gs {
		b[i], allowed[i] = make([]byte, len(l)), make([]byte, len(l))
		for j := range l {
			b[i][j] = l[j].Char()
			allowed[i][j] = l[j].best(tmpl[i][j])
		}
	}
	lay := layouts[f]
	checks := lay.checks(b)
	m := &MRZ{Format: f}
	// No check digit can confirm these: the alphabet alone decides.
	covered := coverage(checks, b)
	for i := range b {
		for j := range b[i] {
			if !covered[i][j] && allowed[i][j] != b[i][j] {
				m.Restricted = append(m.Restricted, Correction{Line: i, Pos: j, From: b[i][j], To: allowed[i][j]})
				b[i][j] = allowed[i][j]
			}
		}
	}
	for _, c := range checks {
		ok := c.valid(b)
		fixed := false
		if !ok {
			var cs []Correction
			if cs, ok = c.decide(b, allowed); ok {
				m.Corrections = append(m.Corrections, cs...)
				fixed = true
			}
		}
		m.Checks = append(m.Checks, Check{Name: c.name, Valid: ok, Corrected: fixed})
	}
	m.Lines = make([]string, len(b))
	for i := range b {
		m.Lines[i] = string(b[i])
	}
	lay.fields(m, b)
	return m
}

// coverage marks the positions some check digit covers (its data or the
// digit itself).
func coverage(checks []checkDef, b [][]byte) [][]bool {
	out := make([][]bool, len(b))
	for i := range b {
		out[i] = make([]bool, len(b[i]))
	}
	for _, c := range checks {
		for _, sp := range c.data {
			for at := sp.start; at < sp.end; at++ {
				out[sp.line][at] = true
			}
		}
		out[c.digit.line][c.digit.at] = true
	}
	return out
}

// decide makes a failing check valid if the check digit confirms it: first
// with the characters the positions allow (the recogniser's best digit
// where a date has a letter), then those plus the usual confusions, then
// the confusions alone on what was read. It changes b only on success and
// returns every change.
func (c checkDef) decide(b, allowed [][]byte) ([]Correction, bool) {
	var at []pos
	fixable := c.fixable
	if fixable == nil {
		fixable = c.data
	}
	for _, sp := range fixable {
		for i := sp.start; i < sp.end; i++ {
			at = append(at, pos{sp.line, i})
		}
	}
	at = append(at, c.digit)
	read := make([]byte, len(at))
	for k, p := range at {
		read[k] = b[p.line][p.at]
	}
	changes := func() []Correction {
		var cs []Correction
		for k, p := range at {
			if to := b[p.line][p.at]; to != read[k] {
				cs = append(cs, Correction{Line: p.line, Pos: p.at, From: read[k], To: to})
			}
		}
		return cs
	}
	restore := func() {
		for k, p := range at {
			b[p.line][p.at] = read[k]
		}
	}
	for _, p := range at {
		b[p.line][p.at] = allowed[p.line][p.at]
	}
	if c.valid(b) {
		return changes(), true
	}
	if _, ok := c.correct(b); ok {
		return changes(), true
	}
	restore()
	if _, ok := c.correct(b); ok {
		return changes(), true
	}
	return nil, false
}
