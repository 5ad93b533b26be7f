#!/usr/bin/env bash
# Regenerates the golden outputs of the translated TF.js models
# (internal/infer/tfjs/testdata/golden) with the pinned TF.js CPU backend:
#   1. the Go test writes the input tensors (sample-photo crops + seeded noise),
#   2. tools/golden/golden.mjs runs TF.js on them and writes the summaries,
#   3. the Go golden test checks our ONNX translation against them.
# Native ONNX model goldens are regenerated with
#   go test ./internal/infer -run Golden -update
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

tools=tools/golden
if [[ ! -d $tools/node_modules || $tools/package-lock.json -nt $tools/node_modules/.package-lock.json ]]; then
	(cd "$tools" && npm ci --ignore-scripts --no-audit --no-fund)
fi

inputs=$(mktemp -d)
trap 'rm -rf "$inputs"' EXIT
"$GO" test -count=1 -run '^TestWriteGoldenInputs$' ./internal/infer/tfjs -args -golden.inputs="$inputs"
node "$tools/golden.mjs" "$inputs" internal/infer/tfjs/testdata/golden
"$GO" test -count=1 -run '^TestGolden' ./internal/infer/tfjs
# The face pipeline's fast compare path against the exhaustive one on the
# development sets (needs ../shared/data; skipped without it).
"$GO" test -count=1 -run '^TestDevSets_Golden$' ./internal/face -args -update
