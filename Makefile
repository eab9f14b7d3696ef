# gzdoctor — the two commands that matter are `make demo` and `make test`.
GO      ?= go
BIN     := bin/gzdoctor
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS := -X main.version=$(VERSION)
# One binary for every openEuler release (glibc 2.28 and later): no cgo, so no
# glibc symbol version is required. libpcap, for filter expressions only, is
# loaded at run time with purego (capture/bpf). Tests build with the same setting.
export CGO_ENABLED := 0

.PHONY: all build setup setup-host lab test test-short fuzz demo bench vet rpm clean

all: build

# Written under a temporary name and renamed: tests of several packages run
# this concurrently and execute $(BIN) while another build replaces it.
build:
	@mkdir -p $(dir $(BIN))
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN).$$$$.tmp ./cmd/gzdoctor && mv $(BIN).$$$$.tmp $(BIN)

# Installs Debian packages, reserves hugepages, builds the lab primary, and makes
# the Debian 11 / 13 chroots with DPDK 20.11 / 24.11 (first time: about 15 minutes).
# Idempotent. setup-host does all but the chroots (demo and bench need none).
setup:
	./lab/setup

setup-host:
	LAB_RELEASES=0 ./lab/setup

lab:
	$(MAKE) -C lab

# The gate: go.mod tidy, vet, gofmt, staticcheck (run at a pinned version, so
# go.mod carries no tool dependency and a fresh clone needs only the module
# proxy), and no regexp compiled at init in any package the binary links.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
vet:
	$(GO) mod tidy -diff
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...
	$(GO) test -count=1 -run 'TestNoRegexpAtInitInBinary|TestRegexpsAtInitFindsOne' ./internal/inittest/

# The whole suite, lab tests included (they need root and hugepages: `make setup`).
test: setup build vet
	$(GO) test -count=1 -timeout 14m ./...
	./scripts/fuzz.sh
	# The RPM, built and tested; its %check (the unit tests above, run again
	# from the source tarball) is left to `make rpm`: it tripled the time.
	RPM_CHECK=0 ./packaging/build-rpm.sh

# Unit tests only; lab tests skip loudly.
test-short: build
	GZDOCTOR_SKIP_LAB=1 $(GO) test -count=1 ./...

fuzz:
	FUZZTIME=$${FUZZTIME:-30s} ./scripts/fuzz.sh

demo: setup-host build
	./scripts/demo.sh

# Side-by-side benchmarks against the reference tools, reported as ratios.
bench: setup-host build
	./bench/run.sh

# The openEuler RPM (packaging/gzdoctor.spec) built here with rpmbuild, under
# build/rpm, and tested: its files, its requirements, its binary runs.
rpm:
	RPM_CHECK=0 ./packaging/build-rpm.sh

clean:
	rm -rf bin
	$(MAKE) -C lab clean
