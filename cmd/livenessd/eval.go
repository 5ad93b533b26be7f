package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// evalCommands are the subjects of `livenessd eval`; each parses its own flags.
func evalCommands() map[string]command {
	return map[string]command{
		"faces": {"face verification on labelled pairs (img_a,img_b,same CSV)", runEvalFaces},

		"liveness": {"liveness method on simulated captures and passive texture on NUAA", runEvalLiveness},
	}
}

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmds := evalCommands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(stderr, "usage: livenessd eval <subject> [flags]\n\nsubjects:")
		names := make([]string, 0, len(cmds))
		for n := range cmds {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(stderr, "  %-10s %s\n", n, cmds[n].summary)
		}
		return fmt.Errorf("%w: eval needs a subject", errUsage)
	}
	c, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("%w: unknown eval subject %q", errUsage, args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// pair is one labelled row of a pairs CSV, paths resolved.
type pair struct {
	A, B         string // resolved paths
	NameA, NameB string // as written in the CSV
	Same         bool
}

// readPairs reads a CSV with a header naming img_a, img_b and same (other
// columns ignored); image paths are relative to the CSV's directory.
func readPairs(path string) ([]pair, error) {
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
	var out []pair
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
		out = append(out, pair{A: filepath.Join(dir, rec[ia]), B: filepath.Join(dir, rec[ib]), NameA: rec[ia], NameB: rec[ib], Same: same})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no pairs", path)
	}
	return out, nil
}
