# AutoLearn. The two commands that matter: `make run` and `make test`.
# Both build what they need first, including the sandbox artifact.

CARGO       ?= cargo
ARTIFACT_DIR := target/python-wasm
ARTIFACT    := $(ARTIFACT_DIR)/runtime.wasm
RUNTIME_SRC := $(wildcard runtime/wit/*.wit runtime/python/*.py) python-wasm/build.sh python-wasm/requirements.txt

export AUTOLEARN_ARTIFACT := $(CURDIR)/$(ARTIFACT)

.PHONY: run test artifact build lint bench clean

## Build the pre-initialized CPython component (pinned componentize-py).
artifact: $(ARTIFACT)
$(ARTIFACT): $(RUNTIME_SRC)
	python-wasm/build.sh $(ARTIFACT_DIR)

build: $(ARTIFACT)
	$(CARGO) build --release

DEMO_EXAMPLES := [{"input": {"text": "the cat and the hat"}, "output": {"words": 5, "unique": 4, "top": ["the", "cat", "and"]}}]

## Run AutoLearn with its defaults (SQLite under ~/.local/share/autolearn):
## verify and store the demo skill, call it, and list the registry.
run: build
	./target/release/autolearn skill add examples/skills/word_stats.py --name word_stats --entry word_stats \
	  --description "Count the words in a text and list the most common ones." --examples '$(DEMO_EXAMPLES)'
	./target/release/autolearn skill run word_stats --input '{"text": "a rose is a rose is a rose", "top": 2}'
	./target/release/autolearn skill list

## Every test: unit, integration, hostile-skill suite, CLI.
test: $(ARTIFACT)
	$(CARGO) test --all-targets
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets -- -D warnings

## Benchmarks (release build): ratios against a python3 subprocess.
bench: build
	./target/release/autolearn bench sandbox --calls 2000 --threads 1 --json
	./target/release/autolearn bench sandbox --calls 2000 --threads 2 --json

clean:
	rm -rf $(ARTIFACT_DIR)
