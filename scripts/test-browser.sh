#!/usr/bin/env bash
# Browser tests: the SDK, the capture page and the demo in headless Chromium
# against a real livenessd. Installs what it needs on a fresh machine:
# Debian's chromium and ffmpeg (apt), playwright-core (npm ci, pinned).
#
#   scripts/test-browser.sh            # all tests
#   scripts/test-browser.sh demo       # test files whose name contains "demo"
#
# Screenshots of every step go to test-artifacts/browser/ (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$root/tools/browser-test"
artifacts="$root/test-artifacts/browser"
GO="${GO:-go}"

log() { printf 'test-browser: %s\n' "$*" >&2; }

# --- what the tests need -----------------------------------------------------
apt_updated=0
apt_install() {
	local sudo=""
	if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
	if [ "$apt_updated" = 0 ]; then
		log "apt-get update"
		$sudo apt-get update -qq >/dev/null
		apt_updated=1
	fi
	log "apt-get install -y $*"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
if [ "${#missing[@]}" -gt 0 ]; then apt_install "${missing[@]}"; fi
command -v node >/dev/null 2>&1 || { log "node is required (Node.js 20+)"; exit 1; }

if [ ! -d "$tools/node_modules/playwright-core" ] || [ "$tools/package-lock.json" -nt "$tools/node_modules/.package-lock.json" ]; then
	log "npm ci (playwright-core, pinned)"
	(cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- a real livenessd ----------------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/livenessd-browser.XXXXXX")"
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -n "${LIVENESSD_BIN:-}" ]; then
	cp "$LIVENESSD_BIN" "$tmp/livenessd" # a binary built elsewhere (debugging)
else
	log "building livenessd"
	CGO_ENABLED=1 "$GO" build -o "$tmp/livenessd" ./cmd/livenessd
fi

free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start NAME PORT ARGS...: starts `livenessd serve` and waits for /readyz.
# One inference thread: on a 2-core machine the browser needs the other core
# to keep its frame and colour timing.
start() {
	local name="$1" port="$2"
	shift 2
	mkdir -p "$tmp/$name"
	LIVENESS_API_KEYS="$api_key" LIVENESS_DATA_KEYS="$data_key" LIVENESS_CAPTURE_FRAME_ANCESTORS="$frame_ancestors" "$tmp/livenessd" serve --addr "127.0.0.1:$port" --data "$tmp/$name" \
		--rate-limit 0 --threads 1 --log-level warn "$@" >"$tmp/$name.log" 2>&1 &
	pids+=("$!")
	local i
	for i in $(seq 1 240); do
		if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
		if ! kill -0 "${pids[-1]}" 2>/dev/null; then break; fi
		sleep 0.25
	done
	log "livenessd ($name) did not start:"
	cat "$tmp/$name.log" >&2
	return 1
}

api_key="lvk_browser_test_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Biometric images encrypted at rest, as in production.
data_key="$("$tmp/livenessd" keys data-key)"
# The tests embed /capture in a "shop" page served from another local port:
# framing is opted into, as an integrator does (the default is 'none').
frame_ancestors="http://127.0.0.1:*"
port="$(free_port)"
short_port="$(free_port)"
while [ "$short_port" = "$port" ]; do short_port="$(free_port)"; done
busy_port="$(free_port)"
while [ "$busy_port" = "$port" ] || [ "$busy_port" = "$short_port" ]; do busy_port="$(free_port)"; done
# The main server, with the demo on; a second one whose sessions expire in
# two seconds, for the expiry test; a third that takes one capture at a
# time, for the refused-upgrade test.
start main "$port" --demo=true
start short "$short_port" --demo=false --session-ttl 2s
start busy "$busy_port" --demo=false --max-captures 1

rm -rf "$artifacts"
mkdir -p "$artifacts" "$tmp/work"

export LIVENESS_URL="http://127.0.0.1:$port"
export LIVENESS_SHORT_URL="http://127.0.0.1:$short_port"
export LIVENESS_BUSY_URL="http://127.0.0.1:$busy_port"
export LIVENESS_API_KEY="$api_key"
export LIVENESS_ARTIFACTS="$artifacts"
export LIVENESS_SAMPLES="${LIVENESS_MODELS_DIR:-$root/var/models}/samples"
export LIVENESS_TEST_TMP="$tmp/work"
export CHROMIUM=/usr/bin/chromium

files=()
for f in "$tools"/tests/*.test.js; do
	if [ $# -eq 0 ] || [[ "$(basename "$f")" == *"$1"* ]]; then files+=("$f"); fi
done
log "running ${#files[@]} test files against $LIVENESS_URL"
status=0
started=$SECONDS
(cd "$tools" && node --test --test-concurrency=1 --test-timeout=240000 "${files[@]}") || status=$?
log "done in $((SECONDS - started)) s; screenshots in ${artifacts#"$root"/}"
if [ "$status" != 0 ]; then
	log "server log (main):"
	tail -n 60 "$tmp/main.log" >&2 || true
fi
exit "$status"
