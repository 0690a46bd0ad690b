# The two commands of the quick start are `make run` and `make test`; everything they need
# is installed from here (uv in a private tool venv, the workspace venv, sipp and
# docker-compose from Debian's packages for the tests).
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := .tools/bin/uv
VENV_PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := 3.11
# mypy gets files, not packages: service folders have dashes and migrations repeat names.
TYPED_FILES = $(shell find shared services tests scripts benchmarks -name '*.py' -not -path '*/migrations/*' 2>/dev/null | sort)

.PHONY: install system-tools run demo migrate test unit lint bench fuzz chaos clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet 'uv==$(UV_VERSION)'

install: $(UV) system-tools
	$(UV) sync --frozen --all-packages --quiet

system-tools:
	@scripts/install-system-tools.sh

run: install
	$(VENV_PY) scripts/run_platform.py

# The platform with three sipp carriers (answering, busy, silent) and the operator console.
demo: install
	$(VENV_PY) scripts/demo.py

migrate: install
	$(VENV_PY) scripts/run_platform.py --migrate-only

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	@echo "mypy --strict on $(words $(TYPED_FILES)) files"
	@.venv/bin/mypy $(TYPED_FILES)

test: install lint
	.venv/bin/pytest -q

bench: install
	$(VENV_PY) scripts/run_benchmarks.py

# The SIP and SDP parsers under atheris for FUZZ_SECONDS each (make test runs a short round).
FUZZ_SECONDS ?= 300
fuzz: install
	cd $$(mktemp -d) && for target in sip sdp; do \
		$(CURDIR)/$(VENV_PY) $(CURDIR)/shared/fuzz/run.py $$target -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 || exit 1; done

# Multi-replica fault suite (not part of `make test`): restarts the local PostgreSQL and
# RabbitMQ in two of its scenarios. `make chaos CHAOS=kill-call-manager,partition-api-gateway`
# runs some of them.
chaos: install
	$(VENV_PY) scripts/run_chaos.py

clean:
	rm -rf .venv .tools .mypy_cache .ruff_cache .pytest_cache
