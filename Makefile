# flowtrain: `make demo` shows it working, `make test` runs every test.
SWIFT ?= swift
PACKAGES := libyaml-dev libopenblas-dev libpng-dev libturbojpeg0-dev pkg-config libopenmpi-dev openmpi-bin
FLOWTRAIN := .build/release/flowtrain
FLOWS := $(wildcard flows/*.yaml)

.PHONY: deps build test demo bench bench-scaling bench-torch bench-quality bench-gbdt check-interop check-metrics check-onnx check-torch-import check-multihost screenshot fuzz clean

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

# The demo: write the demo data once (check looks for it), check every shipped flow, train the
# security flow for a few epochs, calibrate, tune and evaluate it.
DEMO_EPOCHS ?= 5

demo: build
	@[ -f datasets/security/train.csv ] || $(FLOWTRAIN) datasets security
	@[ -f datasets/orders/train.csv ] || $(FLOWTRAIN) datasets orders
	@[ -f datasets/tickets/train.csv ] || $(FLOWTRAIN) datasets tickets
	@for flow in $(FLOWS); do echo "== flowtrain check $$flow"; $(FLOWTRAIN) check $$flow > /dev/null || exit 1; done
	@run=$$($(FLOWTRAIN) train flows/security.yaml --epochs $(DEMO_EPOCHS)) && \
	  $(FLOWTRAIN) calibrate $$run && $(FLOWTRAIN) tune-thresholds $$run && $(FLOWTRAIN) eval $$run && \
	  $(FLOWTRAIN) explain $$run --limit 1 && \
	  echo "the demo run is in $$run; open $$run/report.html" && \
	  epochs=$$(sed -n 's/^  epochs: *//p' flows/security.yaml) && \
	  if [ "$(DEMO_EPOCHS)" -lt "$$epochs" ]; then \
	    echo "it trained $(DEMO_EPOCHS) of the flow's $$epochs epochs, to be quick: the boxes (face_*, body_*) are far from"; \
	    echo "learnt yet, and their r2 can be negative. 'make demo DEMO_EPOCHS=$$epochs' trains the whole flow (about"; \
	    echo "3 minutes on 2 cores); docs/training.md shows what it reaches."; \
	  fi

bench: build
	@for flow in $(FLOWS) bench/mlp.yaml; do echo "== flowtrain bench $$flow"; \
	  case $$flow in *resnet18*) batches="--batch 16,32";; *) batches="";; esac; \
	  $(FLOWTRAIN) bench $$flow $$batches || exit 1; done

# flowtrain against PyTorch (CPU wheel from PyPI, in a throwaway virtualenv) on the same
# networks, masked losses, optimiser and threads: the MLP, the security network, the strided
# conv trunk of bench/strided.yaml, ResNet-18 (frozen forward at batch 32, a training step at
# 16), the transformer encoder of bench/transformer.yaml (batch 32 and 128), and with
# BENCH_TRAIN=1 whole trainings of both conv flows. Never part of `make test`.
TORCH_VENV := .build-torch/venv
BENCH_THREADS ?= 2
BENCH_BATCHES ?= 32,256,1024

BENCH_REPEATS ?= 5

$(TORCH_VENV)/bin/python:
	python3 -m venv $(TORCH_VENV)
	$(TORCH_VENV)/bin/pip install -q "torch==2.13.0+cpu" numpy pillow

# BENCH_TRAIN=1 adds the whole trainings of the security demo and of the strided trunk (20
# epochs each side, about 20 minutes).
# BENCH_ORDERS=1 adds flows/orders.yaml trained and scored on its test split both ways
# (bench/torch_train_orders.py): wall times and every test metric, ground-truth preconditions.
bench-torch: build $(TORCH_VENV)/bin/python
	@$(TORCH_VENV)/bin/python -c "import PIL, numpy" 2> /dev/null || $(TORCH_VENV)/bin/pip install -q numpy pillow
	@[ -z "$(BENCH_TRAIN)" ] || [ -f datasets/security/train.csv ] || $(FLOWTRAIN) datasets security
	@[ -z "$(BENCH_ORDERS)" ] || [ -f datasets/orders/train.csv ] || $(FLOWTRAIN) datasets orders
	$(TORCH_VENV)/bin/python bench/compare.py $(TORCH_VENV)/bin/python $(FLOWTRAIN) --threads $(BENCH_THREADS) \
	  --batches $(BENCH_BATCHES) --repeats $(BENCH_REPEATS) $(if $(BENCH_TRAIN),--train) $(if $(BENCH_ORDERS),--train-orders)

# The scaling tables of docs/performance.md: batch 1 to 4096, 1 and 2 threads, one epoch
# against 10k, 100k and 1M rows. Takes a few minutes; never part of `make test`.
bench-scaling: build
	sh bench/scaling.sh $(FLOWTRAIN)

# libFuzzer targets (Fuzz/, a package of its own built with -sanitize=fuzzer,address) for the
# flow loader, the CSV, PNG, JPEG and safetensors readers: each runs FUZZ_SECONDS; fails on any crash,
# timeout or out-of-memory (reproducers in .build-fuzz/artifacts/). Never part of `make test`.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= FuzzFlow FuzzCSV FuzzPNG FuzzJPEG FuzzSafetensors

fuzz: deps
	SWIFT=$(SWIFT) sh Fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Opens a fresh run directory with Python's safetensors and TensorBoard's EventAccumulator
# (in a throwaway virtualenv). Never part of `make test`.
INTEROP_VENV := .build-interop/venv
INTEROP_RUN := .build-interop/run

$(INTEROP_VENV)/bin/python:
	python3 -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/pip install -q safetensors numpy tensorboard

check-interop: build $(INTEROP_VENV)/bin/python
	rm -rf .build-interop/data $(INTEROP_RUN)
	$(FLOWTRAIN) datasets orders --out .build-interop/data --n 3000
	sed 's#../datasets/orders/orders.csv#$(CURDIR)/.build-interop/data/orders.csv#' flows/orders.yaml > .build-interop/orders.yaml
	$(FLOWTRAIN) train .build-interop/orders.yaml --epochs 3 --run-dir $(INTEROP_RUN)
	$(INTEROP_VENV)/bin/python tools/check_interop.py $(INTEROP_RUN)

# Two hosts for real on one machine (issue 21): two network namespaces joined by a veth pair,
# mpirun across them over TCP (tools/check_multihost.sh; Open MPI enters the other namespace
# through plm_rsh_agent where a cluster uses ssh), the orders flow trained on both, on two
# processes of one host and in one process, and the runs compared. Needs root. Never part of
# `make test`.
MULTIHOST_FLOW ?= flows/orders.yaml
MULTIHOST_FLAGS ?= --epochs 1

check-multihost: build
	@[ -f datasets/orders/train.csv ] || $(FLOWTRAIN) datasets orders
	tools/check_multihost.sh $(FLOWTRAIN) $(MULTIHOST_FLOW) $(MULTIHOST_FLAGS)

# Exports a short run of every shipped flow to ONNX and checks each model with onnx.checker
# and ONNX Runtime against `flowtrain predict` on the flow's test split (tools/check_onnx.py:
# reached = predict's blanks, decisions equal, activations within 1e-5, batch-1 latency), in a
# throwaway virtualenv. The orders and security runs are calibrated and tuned first, so their
# temperatures and thresholds are in the graph. Never part of `make test`.
ONNX_VENV := .build-onnx/venv
ONNX_RUNS := .build-onnx/runs
ONNX_EPOCHS ?= 2

$(ONNX_VENV)/bin/python:
	python3 -m venv $(ONNX_VENV)
	$(ONNX_VENV)/bin/pip install -q onnx onnxruntime numpy pillow

check-onnx: build $(ONNX_VENV)/bin/python
	@[ -f datasets/security/train.csv ] || $(FLOWTRAIN) datasets security
	@[ -f datasets/orders/train.csv ] || $(FLOWTRAIN) datasets orders
	rm -rf $(ONNX_RUNS)
	$(FLOWTRAIN) train flows/orders.yaml --epochs $(ONNX_EPOCHS) --run-dir $(ONNX_RUNS)/orders > /dev/null
	$(FLOWTRAIN) train flows/security.yaml --epochs $(ONNX_EPOCHS) --run-dir $(ONNX_RUNS)/security > /dev/null
	$(FLOWTRAIN) train flows/security-augmented.yaml --epochs 1 --run-dir $(ONNX_RUNS)/security-augmented > /dev/null
	# security-frozen starts from a security-augmented run's trunk: this check's own.
	sed 's#../runs/security-base/#runs/security-augmented/#' flows/security-frozen.yaml > .build-onnx/security-frozen.yaml
	$(FLOWTRAIN) train .build-onnx/security-frozen.yaml --epochs 1 --run-dir $(ONNX_RUNS)/security-frozen > /dev/null
	for run in orders security; do \
	  $(FLOWTRAIN) calibrate $(ONNX_RUNS)/$$run > /dev/null && $(FLOWTRAIN) tune-thresholds $(ONNX_RUNS)/$$run > /dev/null || exit 1; \
	done
	@for run in orders security security-augmented security-frozen; do \
	  data=datasets/$$(echo $$run | cut -d- -f1)/test.csv; \
	  echo "== $$run on $$data"; \
	  $(ONNX_VENV)/bin/python tools/check_onnx.py $(ONNX_RUNS)/$$run $$data --flowtrain $(FLOWTRAIN) || exit 1; \
	done
	@# security-resnet18 needs PyTorch's weights: the run `make check-torch-import` leaves.
	@if [ -d .build-torch-import/run ]; then \
	  echo "== security-resnet18 (make check-torch-import's run) on its 8 random 224x224 images"; \
	  $(ONNX_VENV)/bin/python tools/check_onnx.py .build-torch-import/run .build-torch-import/images.csv \
	    --flowtrain $(FLOWTRAIN) --latency-rows 8 || exit 1; \
	else echo "== security-resnet18: not checked; run make check-torch-import first"; fi

# torchvision's ResNet-18 (seeded, weights=None) saved with safetensors from PyTorch, loaded by
# flows/security-resnet18.yaml (`layout: torch`, `names: in_order`), its heads trained for an
# epoch on the frozen backbone, and the backbone's features (`flowtrain embed`) on 8 random
# 224×224 images compared with torchvision's in evaluation mode (tools/check_torch_import.py).
# Uses the PyTorch virtualenv of bench-torch, with torchvision and safetensors added. Never part
# of `make test`.
check-torch-import: build $(TORCH_VENV)/bin/python
	$(TORCH_VENV)/bin/pip install -q --no-deps "torchvision==0.28.0" safetensors
	rm -rf .build-torch-import
	$(TORCH_VENV)/bin/python tools/check_torch_import.py --flowtrain $(FLOWTRAIN) --work .build-torch-import

# Recomputes every metric in evaluation.csv from predictions.csv and the data with scikit-learn
# (in a throwaway virtualenv), under both precondition modes: for RUN (default: the newest
# `make demo` run) and for a fresh small orders run, calibrated. Never part of `make test`.
METRICS_VENV := .build-metrics/venv
METRICS_RUN := .build-metrics/orders-run
RUN ?= $(patsubst %/,%,$(lastword $(sort $(wildcard runs/security/*/))))

$(METRICS_VENV)/bin/python:
	python3 -m venv $(METRICS_VENV)
	$(METRICS_VENV)/bin/pip install -q scikit-learn numpy pyyaml

check-metrics: build $(METRICS_VENV)/bin/python
	@[ -n "$(RUN)" ] || { echo "check-metrics: no run under runs/security/: run 'make demo' first, or pass RUN=dir" >&2; exit 1; }
	$(FLOWTRAIN) tune-thresholds $(RUN)
	$(FLOWTRAIN) eval $(RUN) --split test
	rm -rf .build-metrics/data $(METRICS_RUN)
	$(FLOWTRAIN) datasets orders --out .build-metrics/data --n 3000
	sed 's#../datasets/orders/orders.csv#$(CURDIR)/.build-metrics/data/orders.csv#' flows/orders.yaml > .build-metrics/orders.yaml
	$(FLOWTRAIN) train .build-metrics/orders.yaml --epochs 3 --run-dir $(METRICS_RUN)
	$(FLOWTRAIN) calibrate $(METRICS_RUN)
	$(FLOWTRAIN) tune-thresholds $(METRICS_RUN)
	$(FLOWTRAIN) eval $(METRICS_RUN) --split test
	$(METRICS_VENV)/bin/python tools/check_metrics.py $(RUN) $(METRICS_RUN)

# A screenshot of a run's report.html by headless Chromium (installed from Debian's packages
# when missing): RUN/report.png; for a search's directory (`flowtrain search`), its search.html:
# RUN/search.png. Default RUN: the newest `make demo` run. The window is as tall as the page: a
# first pass loads a copy of the page with a script that writes the page's height into the DOM
# once everything (contact sheets too) has loaded, and reads it back with --dump-dom;
# SCREENSHOT_HEIGHT=pixels sets the height instead.
screenshot: build
	@[ -n "$(RUN)" ] || { echo "screenshot: no run under runs/security/: run 'make demo' first, or pass RUN=dir" >&2; exit 1; }
	@command -v chromium > /dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }
	@page=report; [ -f $(RUN)/search.html ] && page=search; \
	[ -f $(RUN)/$$page.html ] || { echo "screenshot: $(RUN) holds neither report.html nor search.html" >&2; exit 1; }; \
	height="$(SCREENSHOT_HEIGHT)"; \
	if [ -z "$$height" ]; then \
	  measure=$$(mktemp --suffix=.html); \
	  sed -e 's#<head>#<head><base href="file://$(abspath $(RUN))/">#' \
	    -e 's#</body>#<script>addEventListener("load", () => document.body.dataset.pageHeight = document.documentElement.scrollHeight)</script></body>#' \
	    $(RUN)/$$page.html > $$measure; \
	  height=$$(chromium $(SCREENSHOT_FLAGS) --window-size=1200,800 --dump-dom file://$$measure 2> /dev/null \
	    | sed -n 's#.*data-page-height="\([0-9]*\)".*#\1#p'); \
	  rm -f $$measure; \
	  [ -n "$$height" ] || { echo "screenshot: could not measure the page's height: pass SCREENSHOT_HEIGHT=pixels" >&2; exit 1; }; \
	fi; \
	echo "chromium: 1200 × $$height pixels"; \
	chromium $(SCREENSHOT_FLAGS) --window-size=1200,$$height \
	  --screenshot=$(abspath $(RUN))/$$page.png file://$(abspath $(RUN))/$$page.html 2> /dev/null; \
	echo "wrote $(RUN)/$$page.png"

SCREENSHOT_FLAGS := --headless --no-sandbox --disable-gpu --hide-scrollbars
SCREENSHOT_HEIGHT ?=

# flowtrain's orders flow against scikit-learn's HistGradientBoosting (throwaway virtualenv):
# each task fitted and scored on exactly the rows it counts on, every test metric side by side
# with issue 18's verdict, then wall times (bench/gbdt_orders.py). GBDT_SEEDS averages seeds,
# GBDT_FLOW compares a variant flow, GBDT_TORCH=1 adds the PyTorch mirror. Several minutes per
# seed; never part of `make test`.
GBDT_VENV := .build-gbdt/venv
GBDT_SEEDS ?= 3
GBDT_FLOW ?= flows/orders.yaml

$(GBDT_VENV)/bin/python:
	python3 -m venv $(GBDT_VENV)
	$(GBDT_VENV)/bin/pip install -q scikit-learn numpy pyyaml

bench-gbdt: build $(GBDT_VENV)/bin/python $(if $(GBDT_TORCH),$(TORCH_VENV)/bin/python)
	@[ -f datasets/orders/train.csv ] || $(FLOWTRAIN) datasets orders
	OMP_NUM_THREADS=$(BENCH_THREADS) $(GBDT_VENV)/bin/python bench/gbdt_orders.py --flow $(GBDT_FLOW) \
	  --seeds $(GBDT_SEEDS) --threads $(BENCH_THREADS) --flowtrain $(FLOWTRAIN) \
	  $(if $(GBDT_TORCH),--torch-python $(TORCH_VENV)/bin/python)

# What flowtrain learns against what PyTorch learns with its own defaults (issue 18): each
# workload's flow trained and scored on its test split per seed, both ways (bench/quality.py),
# every metric's mean over the seeds side by side with a verdict. PyTorch's results are cached
# in .build-quality/ and reused; QUALITY_FLAGS passes more options, e.g. "--rerun-torch",
# "--epochs 1", "--flow-mlp variant.yaml". The security workload takes about 7 minutes a seed
# in PyTorch. Never part of `make test`.
QUALITY_SEEDS ?= 3,4,5
QUALITY_WORKLOADS ?= mlp,security,orders
QUALITY_FLAGS ?=

bench-quality: build $(TORCH_VENV)/bin/python
	@$(TORCH_VENV)/bin/python -c "import PIL, numpy" 2> /dev/null || $(TORCH_VENV)/bin/pip install -q numpy pillow
	@case ",$(QUALITY_WORKLOADS)," in *,mlp,*) [ -f datasets/mlp/train.csv ] || $(TORCH_VENV)/bin/python bench/mlp_data.py;; esac
	@case ",$(QUALITY_WORKLOADS)," in *,security,*) [ -f datasets/security/train.csv ] || $(FLOWTRAIN) datasets security;; esac
	@case ",$(QUALITY_WORKLOADS)," in *,orders,*) [ -f datasets/orders/train.csv ] || $(FLOWTRAIN) datasets orders;; esac
	$(TORCH_VENV)/bin/python bench/quality.py $(FLOWTRAIN) --python $(TORCH_VENV)/bin/python \
	  --workloads $(QUALITY_WORKLOADS) --seeds $(QUALITY_SEEDS) --threads $(BENCH_THREADS) $(QUALITY_FLAGS)

clean:
	rm -rf .build
