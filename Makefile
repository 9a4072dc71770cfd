# Every target installs what it needs first, so a fresh clone needs only `make up` / `make test`.
SHELL := /bin/bash
UV := .tools/bin/uv
PY := .venv/bin/python
UI_BUILD := src/runloom/static/index.html
UI_SOURCES := $(shell find ui/src ui/public ui/index.html ui/package.json ui/vite.config.ts ui/tsconfig*.json -type f 2>/dev/null)
export UV_PYTHON_DOWNLOADS := never

.PHONY: up test lint bench fuzz ui system-deps clean

up: .venv/.synced ui
	.venv/bin/runloom up

test: .venv/.synced system-deps ui
	.venv/bin/pytest
	@if [ -f ui/package.json ]; then cd ui && npm test; fi

lint: .venv/.synced
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

bench: .venv/.synced
	.venv/bin/python -m benchmarks

# The OpenAPI fuzz of `make test` (tests/api/test_fuzz.py), with many random examples.
fuzz: .venv/.synced
	RUNLOOM_FUZZ_EXAMPLES=$${RUNLOOM_FUZZ_EXAMPLES:-500} .venv/bin/pytest tests/api/test_fuzz.py -p no:cacheprovider --timeout=7200

# Faults under load (benchmarks/chaos.py): writes benchmarks/CHAOS.md, fails if a run is lost.
.PHONY: chaos
chaos: .venv/.synced
	.venv/bin/python -m benchmarks.chaos

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet uv==0.13.8

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

ui: $(if $(wildcard ui/package.json),$(UI_BUILD))

$(UI_BUILD): $(UI_SOURCES) ui/package-lock.json
	cd ui && npm ci --no-audit --no-fund && npm run build
	touch $@

# The browser tests drive Debian's Chromium (Playwright cannot download its own here).
system-deps:
	@command -v chromium >/dev/null || { \
		echo "installing chromium (Debian package) for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

clean:
	rm -rf .venv .tools src/runloom/static ui/node_modules
