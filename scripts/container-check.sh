#!/usr/bin/env bash
# Builds the Dockerfile and runs the image's binary, to check that the image
# builds and works: `livenessd version`, `models verify`, a compare of the
# sample photos (its run-time libraries: libjpeg, ONNX Runtime's libstdc++)
# and `serve` until /readyz answers 200, then SIGTERM, all as the image's
# non-root user with its read-only model directory.
#
# With a Docker engine it uses docker. Without one (a CI container) it uses
# buildah (installed with apt-get when missing), rootless-friendly: vfs storage
# and chroot isolation. The base images come from the registry when it answers;
# otherwise (an air-gapped machine) they are built locally as stand-ins: Debian
# bookworm by debootstrap from the Debian mirror, and the golang image from it
# with the C toolchain the official image has and this machine's Go toolchain
# (same version as go.mod needs). The host's CA bundle is added to the build
# stand-in, so a TLS-intercepting proxy in front of the module proxy and npm
# is trusted inside the build as it is outside.
set -euo pipefail
cd "$(dirname "$0")/.."
tag=localhost/livenessd:check
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What runs inside the image (bash: the image has no HTTP client).
inside='set -e
livenessd version
livenessd models verify --dir "$LIVENESS_MODELS_DIR"
livenessd compare --dir "$LIVENESS_MODELS_DIR" "$LIVENESS_MODELS_DIR/samples/sample1.jpg" "$LIVENESS_MODELS_DIR/samples/sample2.jpg" >/dev/null
export LIVENESS_API_KEYS=container-check-key-0123456789abcdef LIVENESS_DATA_DIR=/tmp/lvd LIVENESS_ADDR=127.0.0.1:18080
LIVENESS_DATA_KEYS=$(livenessd keys data-key); export LIVENESS_DATA_KEYS
mkdir -p /tmp/lvd
livenessd serve >/tmp/serve.log 2>&1 &
pid=$!
for i in $(seq 1 120); do
	if exec 3<>/dev/tcp/127.0.0.1/18080; then
		printf "GET /readyz HTTP/1.0\r\n\r\n" >&3
		status=$(head -1 <&3)
		exec 3<&-
		case $status in *" 200 "*) echo "readyz 200 after ${i} s"; kill -TERM $pid; wait $pid; exit 0 ;; esac
	fi 2>/dev/null
	kill -0 $pid 2>/dev/null || break
	sleep 1
done
cat /tmp/serve.log >&2
exit 1'

if docker info >/dev/null 2>&1; then
	docker build -t "$tag" --build-arg VERSION=check .
	docker run --rm --entrypoint bash "$tag" -c "$inside"
	echo "container-check: $tag built and ran"
	exit 0
fi

if ! command -v buildah >/dev/null || ! command -v debootstrap >/dev/null; then
	sudo=""
	[[ $(id -u) == 0 ]] || sudo=sudo
	$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq buildah debootstrap >/dev/null
fi
b() { buildah --storage-driver vfs "$@"; }
have() { b inspect --type image "$1" >/dev/null 2>&1; }
debian=docker.io/library/debian:bookworm-slim
golang=docker.io/library/golang:$(sed -n 's/^ARG GO_VERSION=//p' Dockerfile)-bookworm

if ! have "$debian" && ! b pull "$debian" >/dev/null 2>&1; then
	echo "container-check: $debian not reachable; building a stand-in with debootstrap" >&2
	debootstrap --variant=minbase bookworm "$work/rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 ||
		{ tail -20 "$work/debootstrap.log" >&2; exit 1; }
	rm -rf "$work/rootfs/var/cache/apt/archives/"*.deb
	mkdir -p "$work/deb"
	tar -C "$work/rootfs" -cf "$work/deb/rootfs.tar" .
	printf 'FROM scratch\nADD rootfs.tar /\nCMD ["bash"]\n' >"$work/deb/Containerfile"
	b bud --isolation chroot -q -t "$debian" "$work/deb" >/dev/null
fi
if ! have "$golang" && ! b pull "$golang" >/dev/null 2>&1; then
	echo "container-check: $golang not reachable; building a stand-in with this machine's Go" >&2
	mkdir -p "$work/go"
	goroot=$(go env GOROOT)
	tar -C "$(dirname "$goroot")" -cf "$work/go/go.tar" --transform "s|^$(basename "$goroot")|go|" "$(basename "$goroot")"
	cp /etc/ssl/certs/ca-certificates.crt "$work/go/host-ca.crt"
	cat >"$work/go/Containerfile" <<'CF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    ca-certificates curl git netbase procps g++ gcc libc6-dev make pkg-config && rm -rf /var/lib/apt/lists/*
ADD host-ca.crt /usr/local/share/ca-certificates/host-ca.crt
RUN update-ca-certificates
ADD go.tar /usr/local/
ENV GOPATH=/go PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /go
CF
	b bud --isolation chroot -q -t "$golang" "$work/go" >/dev/null
fi

b bud --isolation chroot --pull=never --build-arg VERSION=check -t "$tag" .
ctr=$(b from --pull=never "$tag")
trap 'b rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
b run --isolation chroot --user 10001:10001 "$ctr" -- bash -c "$inside"
echo "container-check: $tag built and ran"
