# Front door: `make test` and `make demo` set up a fresh Debian 12 machine themselves.
BUILD ?= build
JOBS ?= $(shell nproc)
PACKAGES := cmake g++ make pkg-config libzmq3-dev cppzmq-dev capnproto libcapnp-dev \
  liblmdb-dev libspdlog-dev libgtest-dev libtomlplusplus-dev libcli11-dev libsodium-dev \
  libzstd-dev nlohmann-json3-dev prometheus-cpp-dev libpq-dev postgresql-15 libcpp-httplib-dev \
  dpkg-dev help2man man-db systemd libseccomp-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps node-deps browser-deps pouchdb-deps build test package demo benches bench clean proxy fuzz-deps fuzz fuzz-seeds format-deps format format-check

all: build

# $(call install_missing,PACKAGES): apt-get installs those of PACKAGES not installed yet.
define install_missing
	@missing=$$(for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call install_missing,$(PACKAGES))

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# node and npm from Debian unless already installed.
node-deps:
	@command -v npm >/dev/null || { $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends nodejs npm; }

# The browser tests' chromium (Debian) and playwright-core (npm, pinned by
# tests/browser/package-lock.json).
BROWSER_PACKAGES := chromium
browser-deps: node-deps
	$(call install_missing,$(BROWSER_PACKAGES))
	cd tests/browser && npm ci --no-audit --no-fund

# The PouchDB baseline of the link figures (npm, pinned by bench/pouchdb/package-lock.json).
pouchdb-deps: node-deps
	cd bench/pouchdb && npm ci --no-audit --no-fund

test: build format-check browser-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# The Debian package $(BUILD)/osrc-sync_VERSION_amd64.deb (cmake/package.cmake; README: "Install
# at a site", "Install the hub").
package: build
	cd $(BUILD) && cpack -G DEB

# KEEP=1: leave the hub, its console and the four sites running until Ctrl-C.
demo: build
	KEEP=$(KEEP) scripts/demo.sh $(BUILD)/bin

# The benchmark programs (bench/): `make build` leaves them out.
benches: build
	cmake --build $(BUILD) -j $(JOBS) --target benches

bench: benches pouchdb-deps
	scripts/bench.sh $(BUILD)/bin

clean:
	rm -rf $(BUILD)

# Formatting by the checked-in .clang-format, over the tracked .h and .cc files: `make format`
# rewrites them in place, `make format-check` changes nothing and fails on any difference.
FORMAT_PACKAGES := clang-format
format-deps:
	$(call install_missing,$(FORMAT_PACKAGES))

format: format-deps
	git ls-files -z -- '*.h' '*.cc' | xargs -0 -r clang-format -i

format-check: format-deps
	git ls-files -z -- '*.h' '*.cc' | xargs -0 -r clang-format --dry-run -Werror

# Fuzzing: `make fuzz` builds the libFuzzer targets with clang (ASan, UBSan) in $(FUZZ_BUILD) and
# runs hub_inbound_fuzz for FUZZ_SECONDS over the checked-in seeds of fuzz/corpus/hub_inbound
# (new inputs go to $(FUZZ_BUILD)/corpus, crashes to fuzz/crashes/hub_inbound, which `make test`
# replays). `make fuzz-seeds` rewrites the seed corpus.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_PACKAGES := clang libclang-rt-14-dev

fuzz-deps: deps
	$(call install_missing,$(FUZZ_PACKAGES))

$(FUZZ_BUILD)/CMakeCache.txt: | fuzz-deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOSRC_FUZZ=ON

fuzz: fuzz-deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target hub_inbound_fuzz
	mkdir -p $(FUZZ_BUILD)/corpus/hub_inbound fuzz/crashes/hub_inbound
	$(FUZZ_BUILD)/bin/hub_inbound_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=30 \
	  -print_final_stats=1 -artifact_prefix=fuzz/crashes/hub_inbound/ \
	  $(FUZZ_BUILD)/corpus/hub_inbound fuzz/corpus/hub_inbound

fuzz-seeds: fuzz-deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target hub_inbound_seeds
	mkdir -p fuzz/corpus/hub_inbound
	$(FUZZ_BUILD)/bin/hub_inbound_seeds fuzz/corpus/hub_inbound

# A link-fault proxy for manual runs: make proxy LISTEN=7401 TARGET=7400 (LISTEN=0: any free
# port, printed), then type
# rate N | latency MS | cut-after N | cut | blackhole | heal | stats | quit
LISTEN ?= 7401
TARGET ?= 7400
proxy: build
	$(BUILD)/bin/osrc-faultproxy --listen $(LISTEN) --target $(TARGET)

# Soak: four sites and a hub, each site behind its own osrc-faultproxy; random writes, cuts,
# blackholes, throttling and SIGKILL restarts of nodes and the hub for SOAK_SECONDS, then heal
# and check that every site's records equal the hub's. SOAK_SEED=N replays a run.
SOAK_SECONDS ?= 300
.PHONY: soak
soak: build
	scripts/soak.sh $(BUILD)/bin $(SOAK_SECONDS)

# Many sites on one hub: SITES simulated sites (osrc-loadgen) pushing CHANGES changes each at
# RATE per second, and a reference update of 1,000 records to all of them.
SITES ?= 2000
CHANGES ?= 60
RATE ?= 1
.PHONY: sites-bench
sites-bench: build
	scripts/sites_bench.sh $(BUILD)/bin $(SITES) $(CHANGES) $(RATE)
