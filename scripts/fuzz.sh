#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME (default 20s) each and
# records executions per target in docs/SECURITY.md (between the fuzz
# markers). Interesting inputs stay in the Go build cache; a failing input
# is written to the package's testdata/fuzz/<Target>/ by go test itself,
# where it becomes a seed-corpus regression case (commit it with the fix).
#
#   scripts/fuzz.sh                # every target
#   FUZZTIME=60s scripts/fuzz.sh   # longer
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
GO="${GO:-go}"
FUZZTIME="${FUZZTIME:-20s}"
# Minimising each new interesting input for up to 60 s (the default) left
# large-input targets (FuzzRestoreRun's gob snapshots) minimising instead of
# fuzzing: 16 executions in 15 s. A bounded number of attempts keeps the
# minimised corpus and spends the time exploring.
MINIMIZE="${FUZZMINIMIZETIME:-200x}"

rows=()
failed=0
for pkg in $("$GO" list ./...); do
	for target in $("$GO" test -list '^Fuzz' "$pkg" 2>/dev/null | grep '^Fuzz' || true); do
		echo "fuzz $pkg $target ($FUZZTIME)" >&2
		out="$("$GO" test -run XXX -fuzz "^${target}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "$MINIMIZE" "$pkg" 2>&1)"
		rc=$?
		status=ok
		if [ $rc -ne 0 ] || ! grep -q '^ok' <<<"$out"; then
			status=FAILED
			failed=1
			echo "$out" | tail -30 >&2
		fi
		last="$(grep -E '^fuzz: elapsed: [0-9]+s, execs: [0-9]+' <<<"$out" | tail -1)"
		execs="$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")"
		secs="$(sed -nE 's/^fuzz: elapsed: ([0-9]+)s.*/\1/p' <<<"$last")"
		interesting="$(sed -nE 's/.*new interesting: ([0-9]+) \(total: ([0-9]+)\).*/\1 (corpus \2)/p' <<<"$last")"
		rate=""
		if [ -n "$execs" ] && [ -n "$secs" ] && [ "$secs" -gt 0 ]; then rate=$((execs / secs)); fi
		rows+=("| \`${pkg#github.com/livenessd/livenessd/}\` | \`$target\` | ${execs:-?} | ${rate:-?} | ${interesting:-?} | $status |")
	done
done

table="$(
	echo "Last \`make fuzz\`: $(date -u +%Y-%m-%d), FUZZTIME=$FUZZTIME per target, -fuzzminimizetime $MINIMIZE, $(nproc) CPUs, load average $(cut -d' ' -f1 /proc/loadavg) at the end (the machine is shared: rates are indicative)."
	echo
	echo "| package | target | executions | per second | new interesting | result |"
	echo "|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
)"
doc=docs/SECURITY.md
if grep -q '<!-- fuzz:begin -->' "$doc"; then
	awk -v table="$table" '
		/<!-- fuzz:begin -->/ { print; print table; skip = 1; next }
		/<!-- fuzz:end -->/ { skip = 0 }
		!skip { print }
	' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
	echo "fuzz: recorded in $doc" >&2
else
	echo "$table"
fi
exit $failed
