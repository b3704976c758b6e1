# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo demo-stop test lint unit bench clean

$(STAMP): pyproject.toml setup.py mysqlinspect/innodb/_pagecheck.c mysqlinspect/binlog/decode/_rowimage.c mysqlinspect/binlog/replay/_sqltext.c mysqlinspect/binlog/source/_walk.c  # the C extensions are compiled at install
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --quiet -e '.[dev]'  # -qq: errors only (setuptools' editable-install notice is not one)
	$(BIN)/python -m compileall -q mysqlinspect  # bytecode as a wheel install has it (even with PYTHONDONTWRITEBYTECODE)
	touch $(STAMP)

install: $(STAMP)

## make demo: install, start a sandbox server with binary logging, put write load on it, run `mysqlinspect status`.
demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

demo-stop: $(STAMP)
	$(BIN)/mysqlinspect sandbox stop --dir .sandbox/$${FLAVOR:-mysql}

## make test: install everything, lint, type-check and run the whole suite against real servers.
test: $(STAMP) lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mysqlinspect tests benchmarks
	$(BIN)/mypy mysqlinspect

unit: $(STAMP)
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache mysqlinspect/innodb/_pagecheck*.so mysqlinspect/binlog/decode/_rowimage*.so mysqlinspect/binlog/replay/_sqltext*.so mysqlinspect/binlog/source/_walk*.so
