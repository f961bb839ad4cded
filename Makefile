# kwoksim — see README.md. Every target works on a fresh machine with Go, make and bash
# installed: modules come from the Go module proxy on first use.

SHELL    := /bin/bash
GO       ?= go
BIN      := bin/kwoksim
PKGS     := ./...
# One test binary per package; keep the heavy ones (sim, workloads, cmd) few.
TESTFLAGS ?= -count=1

.PHONY: all build dist image test bench bench-scale bench-perf lint demo openb openb-gpu fuzz clean record-real

# What `kwoksim version` prints, stamped with -ldflags -X (version/version.go). Outside a git
# checkout (a source tarball) the version is "dev" and the commit empty; override either with
# `make build VERSION=v0.3.0 COMMIT=...`.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
# Evaluated once, so that every archive of a `make dist` has the same name and stamp.
VERSION := $(VERSION)
COMMIT  := $(COMMIT)
VERSION_PKG := github.com/kwoksim/kwoksim/version
STAMP   := -X $(VERSION_PKG).version=$(VERSION) -X $(VERSION_PKG).commit=$(COMMIT)

all: build

build:
	$(GO) build -ldflags "$(STAMP)" -o $(BIN) ./cmd/kwoksim

# Release archives in dist/: for each PLATFORM a static, stripped binary (CGO_ENABLED=0,
# -trimpath, -s -w) with README.md (and LICENSE, if any) in kwoksim-VERSION-OS-ARCH.tar.gz,
# and SHA256SUMS over the archives. The archives are reproducible with GNU tar (sorted names,
# owner 0, the mtime of the commit, gzip -n). Cross-compiling Kubernetes costs about 14
# CPU-minutes, 2.3 GB of build cache and 2.4 GB of memory (the link) per platform on a cold cache.
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
dist:
	@set -eo pipefail; rm -rf dist; mkdir -p dist; \
	tarflags=(); \
	if tar --version 2>/dev/null | grep -q 'GNU tar'; then \
		mtime=$$(git log -1 --format=%cI 2>/dev/null || echo 2000-01-01T00:00:00Z); \
		tarflags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="$$mtime"); \
	fi; \
	for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; name=kwoksim-$(VERSION)-$$os-$$arch; \
		echo "== $$name"; mkdir -p dist/$$name; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath \
			-ldflags "-s -w $(STAMP)" -o dist/$$name/kwoksim ./cmd/kwoksim; \
		cp README.md dist/$$name/; if [ -f LICENSE ]; then cp LICENSE dist/$$name/; fi; \
		tar -C dist "$${tarflags[@]}" -cf - $$name | gzip -n -9 > dist/$$name.tar.gz; \
		rm -rf dist/$$name; \
	done; \
	cd dist; if command -v sha256sum >/dev/null; then sha256sum -- *.tar.gz; \
		else shasum -a 256 -- *.tar.gz; fi > SHA256SUMS; \
	ls -l

test:
	$(GO) test $(TESTFLAGS) $(PKGS)

# The image of the Dockerfile, tagged IMAGE (default kwoksim:VERSION, the image the Job of
# `kwoksim sweep FILE --emit-job DIR` runs by default), with VERSION and COMMIT stamped into the
# binary and its labels. Needs docker (DOCKER=podman works too).
DOCKER ?= docker
IMAGE  ?= kwoksim:$(VERSION)
image:
	$(DOCKER) build --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) -t $(IMAGE) .

# Throughput of kwoksim against the bare scheduler pattern (docs/design.md, "The bare-pattern
# benchmark"), 5,000 nodes × 10,000 pods of one Deployment (best of two rounds), plus the clock
# and stage micro-benchmarks, node autoscaling against a fixed cluster (BenchmarkAutoscaling,
# 500 pods), and 20 HPAs over a 12-hour load curve against the same run without them
# (BenchmarkHPA, about 11 s), and DynamicResources' filter answers kept against none
# (BenchmarkDRAFilterCache in ./sim, about 20 s). Takes about 17 minutes on a 2-core machine. BENCHARGS go to the workloads benchmarks, e.g.
# BENCHARGS='-bench-probe', BENCHARGS='-bench-pods 2000 -bench-rounds 1' or BENCHARGS='-bench-autoscale-pods 300'.
BENCHARGS ?=
bench:
	$(GO) test -run '^$$' -bench '^Benchmark(SchedulingThroughput|Autoscaling|HPA)$$' -benchtime 1x -timeout 60m ./workloads -args $(BENCHARGS)
	$(GO) test -run '^$$' -bench . ./clock ./stages
	$(GO) test -run '^$$' -bench '^BenchmarkDRAFilterCache$$' -benchtime 1x ./sim

# Memory and time at scale, whole processes: the kwoksim binary against the bare pattern at each
# of SCALESIZES (NODESxPODS; BenchmarkScale in workloads/bench_scale_test.go), with peak RSS per
# pod and per node. The bare pattern runs at sizes up to 20,000 pods (SCALEARGS='-scale-bare-max-pods
# 100000' for all). Not part of `make bench`, never part of CI: the three smaller sizes took 11
# minutes on a 2-core machine with the bare pattern at the first only (-scale-bare-max-pods
# 10000), and 10000x100000 alone takes well over an hour (63,563 of its pods after 42 minutes
# here: the scheduler's default topology spreading visits every pod on every node in every
# cycle) and several GB of memory. README, "Memory at scale", has the figures.
SCALESIZES ?= 5000x10000,5000x20000,10000x20000,10000x100000
SCALEARGS  ?=
bench-scale: build
	$(GO) test -run '^$$' -bench '^BenchmarkScale$$' -benchtime 1x -timeout 600m ./workloads -args -scale-kwoksim $(CURDIR)/bin/kwoksim -scale-sizes $(SCALESIZES) $(SCALEARGS)

# kwoksim perf's SchedulingThroughput against the whole-process throughput of `kwoksim run` on
# the same nodes and pods: upstream's SchedulingBasic at PERFWORKLOAD (default
# 5000Nodes_10000Pods), best of two alternating rounds (BenchmarkPerfThroughput in
# workloads/bench_perf_test.go). About 4 minutes on a 2-core machine; never part of CI.
PERFWORKLOAD ?= 5000Nodes_10000Pods
bench-perf: build
	$(GO) test -run '^$$' -bench '^BenchmarkPerfThroughput$$' -benchtime 1x -timeout 120m ./workloads -args -scale-kwoksim $(CURDIR)/bin/kwoksim -perf-workload $(PERFWORKLOAD) $(PERFARGS)

# Each fuzz target for FUZZTIME (default 10m; go runs one target per invocation). `make test`
# runs only the seed corpora (the repository's inputs and testdata/fuzz/FuzzX/); a crash
# found here is written to testdata/fuzz/FuzzX/ in the package: fix it, commit the file.
FUZZTIME ?= 10m
FUZZ_TARGETS := FuzzLoad:./workloads/trace FuzzTrace:./workloads/trace FuzzDocuments:./workloads/input FuzzParseStages:./stages FuzzStageEval:./stages FuzzConvert:./workloads/openb FuzzSchedulerConfig:./sim
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "== $${t%%:*} ($${t#*:}, $(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) $${t#*:}; \
	done

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# The user's own manifests: one KWOK node, a Deployment of 10 pods.
demo: build
	$(BIN) run --nodes testdata/seed/node.yaml --workload testdata/seed/pod.yaml

# The full Alibaba GPU trace (OPENB, default ../shared/traces/openb): import it, replay it twice
# with the default stages and check that the two reports agree apart from the wall time and the
# provenance (the two command lines differ), its last field. The CSVs are not in this
# repository: the target says where to get them when they are missing.
OPENB ?= ../shared/traces/openb
OPENB_URL := https://github.com/alibaba/clusterdata/tree/master/cluster-trace-gpu-v2023/csv
OPENB_CSVS := openb_node_list_all_node.csv openb_pod_list_default.csv
openb:
	@missing=; for f in $(OPENB_CSVS); do [ -f "$(OPENB)/$$f" ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
		echo "make openb: missing in OPENB=$(OPENB):$$missing" >&2; \
		echo "They are Alibaba's GPU cluster trace (cluster-trace-gpu-v2023), not part of this repository:" >&2; \
		echo "download both from $(OPENB_URL)" >&2; \
		echo "into a directory and run: make openb OPENB=that/directory" >&2; \
		exit 2; \
	fi
	$(MAKE) build
	$(BIN) import openb --nodes $(OPENB)/openb_node_list_all_node.csv --pods $(OPENB)/openb_pod_list_default.csv --out out/openb
	time $(BIN) run --nodes out/openb/nodes.yaml --trace out/openb/trace.jsonl --report out/openb/report-1.json
	time $(BIN) run --nodes out/openb/nodes.yaml --trace out/openb/trace.jsonl -o json --report out/openb/report-2.json >/dev/null
	diff <(grep -v '"wallSeconds"' out/openb/report-1.json | sed '/^  "provenance": {/,$$d') <(grep -v '"wallSeconds"' out/openb/report-2.json | sed '/^  "provenance": {/,$$d') && echo "the two reports agree"

# The same trace with GPUs per card (kwoksim import openb --gpu dra, into out/openb-dra) beside
# the pooled import (out/openb): the whole replay as recorded, pooled then per card, twice,
# alternating, with each one's wall time and the ratio of the best of each (README, "GPUs per
# card and stranded capacity"); then the arrivals-only sweep over scheduler configurations
# (testdata/sweep/openb-gpu.yaml), with its plots in out/openb-gpu-plots (sweep-gpu: allocated
# against stranded GPU per configuration). About 8 minutes on a 2-core machine.
openb-gpu:
	@missing=; for f in $(OPENB_CSVS); do [ -f "$(OPENB)/$$f" ] || missing="$$missing $$f"; done; \
	if [ -n "$$missing" ]; then \
		echo "make openb-gpu: missing in OPENB=$(OPENB):$$missing (see make openb)" >&2; exit 2; \
	fi
	$(MAKE) build
	$(BIN) import openb --nodes $(OPENB)/openb_node_list_all_node.csv --pods $(OPENB)/openb_pod_list_default.csv --out out/openb
	$(BIN) import openb --gpu dra --nodes $(OPENB)/openb_node_list_all_node.csv --pods $(OPENB)/openb_pod_list_default.csv --out out/openb-dra
	@set -e; TIMEFORMAT=%R; : > out/openb-gpu-times; \
	for round in 1 2; do for m in openb openb-dra; do \
		t=$$( { time $(BIN) run --nodes out/$$m/nodes.yaml --trace out/$$m/trace.jsonl -o json --report out/$$m/report-recorded.json >/dev/null 2>&1; } 2>&1 ); \
		echo "round $$round $$m: $$t s"; echo "$$m $$t" >> out/openb-gpu-times; \
	done; done; \
	awk '{ if (!($$1 in best) || $$2 < best[$$1]) best[$$1] = $$2 } \
		END { printf "as recorded, best of two: pooled %.1f s, per card %.1f s, ratio %.2f\n", best["openb"], best["openb-dra"], best["openb-dra"] / best["openb"] }' out/openb-gpu-times
	$(BIN) sweep testdata/sweep/openb-gpu.yaml --parallel 1 --plots out/openb-gpu-plots

# Records the fidelity suite (testdata/fidelity) on a real control plane and writes each
# scenario's observed.json. Not part of `make test`. Needs the real binaries: the first run builds
# them with ../shared/realcluster/build.sh into REALCLUSTER_WORK (about half an hour on 2 cores and
# a 2 GB build cache, from the Go module proxy; skipped when REALCLUSTER_WORK/bin has them all).
# Then each scenario runs on a fresh KWOK cluster per repeat, on the wall clock: the whole suite
# takes about an hour (node-not-ready alone is 2 × 380 s). Nothing else may run a cluster meanwhile.
# RECORDARGS go to cmd/record-real, e.g. RECORDARGS='-scenarios seed,rollout-fast -repeats 1'.
REALCLUSTER_WORK ?= $(abspath $(CURDIR)/../realcluster-work)
REALCLUSTER_BINS := etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok kwokctl
RECORDARGS ?=
record-real:
	@for b in $(REALCLUSTER_BINS); do [ -x "$(REALCLUSTER_WORK)/bin/$$b" ] || { \
		echo "building the real control plane into $(REALCLUSTER_WORK)"; \
		../shared/realcluster/build.sh "$(REALCLUSTER_WORK)" . || exit 1; break; }; done
	$(GO) run ./cmd/record-real -work "$(REALCLUSTER_WORK)" $(RECORDARGS)

clean:
	rm -rf bin dist
