# kwoksim alone in an image, for the Indexed Job that `kwoksim sweep FILE --emit-job DIR` writes
# (README: "Sweeps on a cluster"). The binary is static, so the image needs nothing else.
#
# `make image` builds it as kwoksim:<version>, the tag the emitted Job uses by default, passing
# VERSION (git describe) and COMMIT (git rev-parse HEAD): the build context has no .git
# (.dockerignore), so they cannot be found in here. Without them the binary says "dev".
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/kwoksim/kwoksim/version.version=${VERSION} -X github.com/kwoksim/kwoksim/version.commit=${COMMIT}" \
    -o /kwoksim ./cmd/kwoksim

FROM scratch
ARG VERSION=dev
ARG COMMIT=
LABEL org.opencontainers.image.title="kwoksim" \
      org.opencontainers.image.description="Simulates a Kubernetes cluster offline: the real kube-scheduler on a virtual clock" \
      org.opencontainers.image.source="https://github.com/kwoksim/kwoksim" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}"
COPY --from=build /kwoksim /kwoksim
# The emitted Job runs as this user (runAsUser 65532, runAsNonRoot).
USER 65532:65532
ENTRYPOINT ["/kwoksim"]
