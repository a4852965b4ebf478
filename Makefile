# KFM observability-as-code. `make render` then `make test` on a fresh machine.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: render test test-fast lint check gates diff fuzz bench bench-sloth bench-detection bench-eval venv promtool prometheus3 sloth thanos collector kubeconform schemas clean

## render: compile slo/ and alerts/ into out/ (creates the virtual environment if missing)
render: $(VENV)/.installed
	$(PY) -m generator render

## test: install promtool, kubeconform and the collector if missing, run the policy gates, then every test
TEST_WORKERS ?= auto
test: $(VENV)/.installed promtool prometheus3 thanos collector kubeconform sloth
	$(PY) -m generator gates
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

## test-fast: the tests that need no real tool beyond Python (no servers, no Go, no collector, no promtool fixture)
FAST_TESTS = not (live or promtool or thanos or collector or kubernetes or alertmanager or fuzz or install or git)
test-fast: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile -m "$(FAST_TESTS)"

## lint: the type checker (mypy, configured in pyproject.toml) on the compiler and the runtime package
lint: $(VENV)/.installed
	$(PY) -m mypy

## fuzz: 10,000 random definitions (Hypothesis): each renders into output the real tools accept, or is refused cleanly
FUZZ_EXAMPLES ?= 10000
fuzz: $(VENV)/.installed promtool prometheus3 collector
	KFM_FUZZ_PROFILE=fuzz KFM_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) KFM_FUZZ_REPORT=$(or $(FUZZ_REPORT),fuzz-report.json) \
		$(PY) -m pytest -q -s -p no:cacheprovider tests/test_fuzz.py

## import: write definitions files under slo/ from specs: make import SPEC="a.yml b.yml" [FORMAT=openslo] [OWNER=team] [IMPORT_FLAGS=--force]
.PHONY: import
FORMAT ?= sloth
import: $(VENV)/.installed
	@test -n "$(SPEC)" || { echo 'usage: make import SPEC="file.yml ..." [FORMAT=sloth|openslo] [OWNER=team]' >&2; exit 2; }
	$(PY) -m generator import $(FORMAT) $(SPEC) $(if $(OWNER),--owner $(OWNER)) $(IMPORT_FLAGS)

## gates: the policy gates on the rendered out/ (fail-closed)
gates: $(VENV)/.installed
	$(PY) -m generator gates

## check: fail if the committed out/ differs from a fresh render (drift gate)
check: $(VENV)/.installed
	$(PY) -m generator check

## bench: rule counts, objects and render time for 10 to 10,000 datasets; 10,000 on a live Prometheus; tool speed beside Sloth's (1,000 SLOs)
bench: $(VENV)/.installed promtool prometheus3 sloth
	$(PY) bench/freshness_scale.py
	$(PY) bench/freshness_live.py
	$(PY) bench/tool_speed.py

## bench-sloth: the same SLOs compiled by kfm and by Sloth v0.16.0, side by side
bench-sloth: $(VENV)/.installed promtool sloth
	$(PY) bench/sloth_side_by_side.py

## bench-detection: when each alert fires for the same traffic, kfm and Sloth side by side on the real promtool (3.16, 2.42)
bench-detection: $(VENV)/.installed promtool prometheus3 sloth
	$(PY) bench/detection.py

## bench-eval: rule evaluation cost of the same SLOs, kfm vs Sloth, on a Prometheus holding a month of history (10 and 100 SLOs x 5 pods)
## (query API), then on two servers' rule managers over live traffic (measured long enough for 3 evaluations of every group)
bench-eval: $(VENV)/.installed prometheus3 sloth
	$(PY) bench/eval_cost.py --slos 10 --pods 5
	$(PY) bench/eval_cost.py --slos 100 --pods 5
	$(PY) bench/rule_manager_cost.py

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

promtool:
	scripts/install-prometheus-tools.sh

## sloth: Sloth v0.16.0 (the peer the benchmarks compare with), installed with go install (cached by version)
sloth:
	scripts/install-sloth.sh >/dev/null

## thanos: Thanos (rules-check, and the sharded setup's components) at the pinned version, built from its module source (cached by version)
thanos:
	scripts/build-thanos.sh >/dev/null

## prometheus3: Prometheus 3 (promtool and the server) at the pinned version, built with go install (cached by version)
prometheus3:
	scripts/build-prometheus3.sh promtool prometheus

## diff: Markdown review summary of the working tree against BASE (default HEAD), for the PR;
## HISTORY=prometheus=URL or file=PATH adds the backtest of each changed SLO (docs/reviewing.md)
BASE ?= HEAD
HISTORY ?=
diff: $(VENV)/.installed
	@$(PY) -m generator diff --base $(BASE) $(if $(HISTORY),--history '$(HISTORY)')

## kubeconform: install (or reuse from the cache) kubeconform; prints its path
kubeconform:
	scripts/install-kubeconform.sh

## schemas: re-extract schemas/ (kubeconform's JSON schemas) from the pinned operator CRDs and Kubernetes OpenAPI
schemas: $(VENV)/.installed
	$(PY) scripts/extract-schemas.py

## collector: build (or reuse from the cache) the OpenTelemetry Collector the configs need
collector:
	scripts/build-collector.sh

clean:
	rm -rf $(VENV) .pytest_cache
