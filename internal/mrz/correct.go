package mrz

// The OCR confusions corrected (ICAO 9303's OCR-B glyph pairs that
// recognisers mix up most).
var (
	digitFor  = map[byte]byte{'O': '0', 'I': '1', 'S': '5', 'B': '8', 'Z': '2'}
	letterFor = map[byte]byte{'0': 'O', '1': 'I', '5': 'S', '8': 'B', '2': 'Z'}
)

// maxOptionalChanges bounds how many ambiguous characters one correction
// may change: more would let the check digit (one in ten) confirm noise.
const maxOptionalChanges = 2

// correct tries to make the check valid by undoing OCR confusions. A
// letter in a numeric position must become its digit (forced); a
// character in an alphanumeric position may be swapped with its twin
// (optional). The correction is kept only when the check digit then
// matches and, among the fewest optional changes that make it match,
// exactly one does. It changes b only on success.
func (c checkDef) correct(b [][]byte) ([]Correction, bool) {
	var forced []Correction
	var optional []Correction
	consider := func(p pos, kind charKind) bool {
		ch := b[p.line][p.at]
		if kind == numeric {
			if ch >= 'A' && ch <= 'Z' {
				d, ok := digitFor[ch]
				if !ok {
					return false
				}
				forced = append(forced, Correction{Line: p.line, Pos: p.at, From: ch, To: d})
			}
			return true
		}
		if alt, ok := digitFor[ch]; ok {
			optional = append(optional, Correction{Line: p.line, Pos: p.at, From: ch, To: alt})
		} else if alt, ok := letterFor[ch]; ok {
			optional = append(optional, Correction{Line: p.line, Pos: p.at, From: ch, To: alt})
		}
		return true
	}
	fixable := c.fixable
	if fixable == nil {
		fixable = c.data
	}
	for _, sp := range fixable {
		for at := sp.start; at < sp.end; at++ {
			if !consider(pos{sp.line, at}, c.kind) {
				return nil, false
			}
		}
	}
	if !consider(c.digit, numeric) {
		return nil, false
	}
	apply := func(cs []Correction, to bool) {
		for _, x := range cs {
			if to {
				b[x.Line][x.Pos] = x.To
			} else {
				b[x.Line][x.Pos] = x.From
			}
		}
	}
	apply(forced, true)
	if c.valid(b) {
		return forced, len(forced) > 0
	}
	// Fewest optional changes first; stop at the first size with a match.
	for size := 1; size <= maxOptionalChanges && size <= len(optional); size++ {
		var found []Correction
		matches := 0
		for _, set := range subsets(len(optional), size) {
			cs := make([]Correction, len(set))
			for i, k := range set {
				cs[i] = optional[k]
			}
			apply(cs, true)
			if c.valid(b) {
				matches++
				found = cs
			}
			apply(cs, false)
		}
		if matches == 1 {
			apply(found, true)
			return append(forced, found...), true
		}
		if matches > 1 {
			break // ambiguous: the check digit cannot tell which
		}
	}
	apply(forced, false)
	return nil, false
}

// subsets lists the k-element subsets of 0..n-1 in lexicographic order.
func subsets(n, k int) [][]int {
	var out [][]int
	cur := make([]int, 0, k)
	var rec func(start int)
	rec = func(start int) {
		if len(cur) == k {
			out = append(out, append([]int(nil), cur...))
			return
		}
		for i := start; i <= n-(k-len(cur)); i++ {
			cur = append(cur, i)
			rec(i + 1)
			cur = cur[:len(cur)-1]
		}
	}
	rec(0)
	return out
}
