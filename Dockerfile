# kwoksim alone in an image, for the Indexed Job that `kwoksim sweep FILE --emit-job DIR` writes
# (README: "Sweeps on a cluster"). The binary is static, so the image needs nothing else.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /kwoksim ./cmd/kwoksim

FROM scratch
COPY --from=build /kwoksim /kwoksim
USER 65532:65532
ENTRYPOINT ["/kwoksim"]
