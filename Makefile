# flowtrain: `make demo` shows it working, `make test` runs every test.
SWIFT ?= swift
PACKAGES := libyaml-dev libopenblas-dev libpng-dev pkg-config
FLOWTRAIN := .build/release/flowtrain
FLOWS := $(wildcard flows/*.yaml)

.PHONY: deps build test demo bench bench-torch clean

# System libraries, installed only when one is missing.
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build -c release --product flowtrain

# Tests run on optimised code (with @testable imports enabled): what users run, and what the
# allocation test must measure.
TEST_FLAGS := -c release -Xswiftc -enable-testing

test: deps
	$(SWIFT) build $(TEST_FLAGS) --build-tests
	$(SWIFT) test $(TEST_FLAGS) --skip-build --disable-xctest

demo: build
	@for flow in $(FLOWS); do echo "== flowtrain check $$flow"; $(FLOWTRAIN) check $$flow || exit 1; done

bench: build
	@for flow in $(FLOWS) bench/mlp.yaml; do echo "== flowtrain bench $$flow"; $(FLOWTRAIN) bench $$flow || exit 1; done

# flowtrain against PyTorch (CPU wheel from PyPI, in a throwaway virtualenv) on the same MLP,
# masked losses, optimiser and threads. Never part of `make test`.
TORCH_VENV := .build-torch/venv
BENCH_THREADS ?= 2
BENCH_BATCHES ?= 32,256,1024

$(TORCH_VENV)/bin/python:
	python3 -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/pip install -q "torch==2.13.0+cpu"

bench-torch: build $(TORCH_VENV)/bin/python
	$(TORCH_VENV)/bin/python bench/compare.py $(TORCH_VENV)/bin/python $(FLOWTRAIN) $(BENCH_THREADS) $(BENCH_BATCHES)

clean:
	rm -rf .build
