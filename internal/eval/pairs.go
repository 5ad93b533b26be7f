// Package eval measures the face pipeline and the liveness method on
// labelled data (the `livenessd eval` subcommands) and writes the results
// into docs/ACCURACY.md. The command line only parses flags and calls in.
package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Pair is one labelled row of a pairs CSV, paths resolved.
type Pair struct {
	A, B         string // resolved paths
	NameA, NameB string // as written in the CSV
	Same         bool
}

// ReadPairs reads a CSV with a header naming img_a, img_b and same (other
// columns ignored); image paths are relative to the CSV's directory.
func ReadPairs(path string) ([]Pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(h)] = i
	}
	ia, okA := col["img_a"]
	ib, okB := col["img_b"]
	is, okS := col["same"]
	if !okA || !okB || !okS {
		return nil, fmt.Errorf("%s: header %v lacks img_a, img_b, same", path, head)
	}
	dir := filepath.Dir(path)
	var out []Pair
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if len(rec) <= max(ia, ib, is) {
			return nil, fmt.Errorf("%s:%d: %d columns", path, line, len(rec))
		}
		same, err := strconv.ParseBool(strings.TrimSpace(rec[is]))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: same=%q: %w", path, line, rec[is], err)
		}
		out = append(out, Pair{A: filepath.Join(dir, rec[ia]), B: filepath.Join(dir, rec[ib]), NameA: rec[ia], NameB: rec[ib], Same: same})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no pairs", path)
	}
	return out, nil
}
