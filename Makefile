# kwoksim — see README.md. Every target works on a fresh machine with only Go installed:
# modules come from the Go module proxy on first use.

GO       ?= go
BIN      := bin/kwoksim
PKGS     := ./...
# One test binary per package; keep the heavy ones (sim, workloads, cmd) few.
TESTFLAGS ?= -count=1

.PHONY: all build test bench lint demo clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/kwoksim

test:
	$(GO) test $(TESTFLAGS) $(PKGS)

# Throughput of kwoksim against the bare scheduler pattern (DESIGN.md), 5,000 nodes × 10,000
# pods of one Deployment (best of two rounds), plus the clock and stage micro-benchmarks. Takes about
# 15 minutes on a 2-core machine.
bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m ./workloads
	$(GO) test -run '^$$' -bench . ./clock ./stages

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# The user's own manifests: one KWOK node, a Deployment of 10 pods.
demo: build
	$(BIN) run --nodes testdata/seed/node.yaml --workload testdata/seed/pod.yaml

clean:
	rm -rf bin
