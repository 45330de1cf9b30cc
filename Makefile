# The two commands of the quick start: `make demo` and `make test`.
# Each creates or refreshes .venv and installs .[all,dev] when pyproject.toml or the
# constraints changed, so either one works as the first command on a fresh machine.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PKG := membrane_integrations
# Docstring examples that start a membraned: run by tests/live/langchain/test_lc_store_docstrings_live.py
# under the daemon gating (skip without Go, fail under CI=true), not by the ungated doctest run.
DAEMON_DOCTESTS := $(PKG)/langchain/store_membrane.py $(PKG)/langchain/chat_history_membrane.py
# The upstream membrane v0.2.0 source, when it sits beside the checkout: `make membraned` then
# builds the daemon from it (cached in .cache/bin by the source's hash). Override freely.
UPSTREAM := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/../shared/upstream/membrane-v0.2.0)
ifneq ($(wildcard $(UPSTREAM)/cmd/membraned),)
MEMBRANED_SOURCE ?= $(UPSTREAM)
export MEMBRANED_SOURCE
endif

.PHONY: demo test lint typecheck pytest membraned record-cassettes record-membrane-cassettes clean bench-recall

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "==> installing .[all,dev] into $(VENV) (first run takes a few minutes)"
	@$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[all,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@$(PY) -m $(PKG) demo

test: $(STAMP) membraned
	$(PY) -m ruff check $(PKG) tests benchmarks
	$(PY) -m ruff format --check $(PKG) tests benchmarks
	$(PY) -m mypy --strict $(PKG)
	$(PY) -m pytest -q -p no:randomly --doctest-modules membrane_integrations $(DAEMON_DOCTESTS:%=--ignore=%)
	$(PY) -m pytest -ra tests

# Finds or builds the real Membrane daemon (v0.2.0): MEMBRANED_BIN, else a build of
# MEMBRANED_SOURCE cached in .cache/bin, else go install. Writes .cache/membraned.json.
membraned: $(STAMP)
	@$(PY) -m tests.support.install_membraned

record-cassettes: $(STAMP)
	MEMBRAIN_RECORD=1 $(PY) -m pytest tests/cassette -p no:randomly --record-mode=rewrite

# Re-records cassettes/membrane/*.yaml from a live membraned.
record-membrane-cassettes: $(STAMP) membraned
	rm -f cassettes/membrane/*.yaml
	MEMBRANE_RECORD=1 $(PY) -m pytest tests/live/membrane/test_membraned.py -m membraned -k "scenario and sqlite" -p no:randomly

# What each read surface recalls on LoCoMo (../shared/datasets/locomo, or LOCOMO_DIR): several minutes.
# BENCH_ARGS passes options, e.g. make bench-recall BENCH_ARGS=--quick
bench-recall: $(STAMP) membraned
	$(PY) benchmarks/recall_quality.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache .mypy_cache .ruff_cache .pytest_cache
