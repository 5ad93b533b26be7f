#!/usr/bin/env bash
# The unmodified AWS Amplify FaceLivenessDetectorCore (React,
# @aws-amplify/ui-react-liveness 3.6.8) against a real livenessd over TLS, in
# headless Chromium (docs/AMPLIFY.md). Installs what it needs on a fresh
# machine: Debian's chromium and ffmpeg (apt), the pinned npm packages
# (npm ci), then builds the page with Vite.
#
# Scenarios: "answering" (a test camera drawing a real face that moves
# closer and reflects the colours the component shows: SUCCEEDED),
# "recorded" (Chromium's file camera playing a recorded approach of the same
# face, made here with ffmpeg: FAILED), "unknown" (an unknown session: the
# component's error screen).
#
#   scripts/test-amplify.sh                    # all scenarios
#   scripts/test-amplify.sh answering,unknown  # some
#
# Screenshots of every step go to test-artifacts/amplify/ (git-ignored).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$root/tools/amplify-test"
artifacts="$root/test-artifacts/amplify"
models="${LIVENESS_MODELS_DIR:-$root/var/models}"
GO="${GO:-go}"
started=$SECONDS

log() { printf 'test-amplify: %s\n' "$*" >&2; }

# --- what the test needs -----------------------------------------------------
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
if [ "${#missing[@]}" -gt 0 ]; then
	sudo=""
	if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
	log "apt-get install -y ${missing[*]}"
	$sudo apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
command -v node >/dev/null 2>&1 || { log "node is required (Node.js 20+)"; exit 1; }

if [ ! -d "$tools/node_modules/@aws-amplify/ui-react-liveness" ] || [ "$tools/package-lock.json" -nt "$tools/node_modules/.package-lock.json" ]; then
	log "npm ci (pinned: React 18, Amplify UI liveness 3.6.8, Vite, playwright-core)"
	(cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
fi
log "vite build"
(cd "$tools" && npx vite build >/dev/null)

# --- a real livenessd over TLS -------------------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/livenessd-amplify.XXXXXX")"
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ -n "${LIVENESSD_BIN:-}" ]; then
	cp "$LIVENESSD_BIN" "$tmp/livenessd"
else
	log "building livenessd"
	CGO_ENABLED=1 "$GO" build -o "$tmp/livenessd" ./cmd/livenessd
fi
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
api_key="lvk_amplify_test_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# Biometric images encrypted at rest, as in production.
data_key="$("$tmp/livenessd" keys data-key)"
# One inference thread: on a 2-core machine the browser needs the other core
# to keep its frame and colour timing.
LIVENESS_API_KEYS="$api_key" LIVENESS_DATA_KEYS="$data_key" "$tmp/livenessd" serve --addr "127.0.0.1:$port" --data "$tmp/data" \
	--models "$models" --tls-self-signed --rate-limit 0 --threads 1 --log-level info >"$tmp/livenessd.log" 2>&1 &
pid=$!
for _ in $(seq 1 240); do
	if [ -f "$tmp/data/tls/selfsigned-cert.pem" ] &&
		curl -fsS --cacert "$tmp/data/tls/selfsigned-cert.pem" "https://localhost:$port/readyz" >/dev/null 2>&1; then
		break
	fi
	if ! kill -0 "$pid" 2>/dev/null; then break; fi
	sleep 0.25
done
if ! curl -fsS --cacert "$tmp/data/tls/selfsigned-cert.pem" "https://localhost:$port/readyz" >/dev/null 2>&1; then
	log "livenessd did not start:"
	cat "$tmp/livenessd.log" >&2
	exit 1
fi

# --- the recorded approach for Chromium's file camera (never committed) --------
# The face of sample5.jpg on a grey canvas: small for 5 s, zooming in for
# 3 s, then large for 6 s; 15 fps y4m as Chromium's fake capture reads it.
y4m="$tmp/approach.y4m"
if [ -z "${1:-}" ] || [[ "$1" == *recorded* ]]; then
	log "ffmpeg: recorded approach"
	ffmpeg -hide_banner -loglevel error -y -i "$models/samples/sample5.jpg" -filter_complex \
		"[0:v]crop=310:420:314:810,scale=260:-2[face];color=c=0x7d8288:s=1280x960:r=15:d=14[bg];[bg][face]overlay=(W-w)/2:(H-h)/2+20,zoompan=z='if(lte(on,75),1,if(lte(on,120),1+(on-75)/45*2.6,3.6))':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=640x480:fps=15,format=yuv420p" \
		-frames:v 210 -f yuv4mpegpipe "$y4m"
fi

rm -rf "$artifacts"
mkdir -p "$artifacts"
export LIVENESSD_URL="https://localhost:$port"
export LIVENESSD_KEY="$api_key"
export NODE_EXTRA_CA_CERTS="$tmp/data/tls/selfsigned-cert.pem"
export FACE_JPG="$models/samples/sample5.jpg"
export APPROACH_Y4M="$y4m"
export ARTIFACTS="$artifacts"
export CHROMIUM=/usr/bin/chromium
if [ -n "${1:-}" ]; then export SCENARIOS="$1"; fi

status=0
(cd "$tools" && node run.mjs) || status=$?
log "done in $((SECONDS - started)) s; screenshots in ${artifacts#"$root"/}"
grep -v "msg=http " "$tmp/livenessd.log" | tail -n 60 >"$artifacts/livenessd.log" || true
if [ "$status" != 0 ]; then
	log "server log:"
	grep -v "msg=http " "$tmp/livenessd.log" | tail -n 40 >&2 || true
fi
exit "$status"
