# Front door: `make test` and `make demo` set up a fresh Debian 12 machine themselves.
BUILD ?= build
JOBS ?= $(shell nproc)
PACKAGES := cmake g++ make pkg-config libzmq3-dev cppzmq-dev capnproto libcapnp-dev \
  liblmdb-dev libspdlog-dev libgtest-dev libtomlplusplus-dev libcli11-dev libsodium-dev \
  libzstd-dev nlohmann-json3-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build test demo bench clean proxy

all: build

deps:
	@missing=$$(for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

demo: build
	scripts/demo.sh $(BUILD)/bin

bench: build
	scripts/bench.sh $(BUILD)/bin

clean:
	rm -rf $(BUILD)

# A link-fault proxy for manual runs: make proxy LISTEN=7401 TARGET=7400, then type
# rate N | latency MS | cut-after N | cut | blackhole | heal | stats | quit
LISTEN ?= 7401
TARGET ?= 7400
proxy: build
	$(BUILD)/bin/osrc-faultproxy --listen $(LISTEN) --target $(TARGET)
