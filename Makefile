# Two commands do all the set-up: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint index eval bench clean audit

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch is pinned in pyproject.toml to the CPU build (2.13.0): no multi-GB CUDA download.
	# [scale]: Milvus and Ray Data (docs/scale.md), for QA_STORE=milvus, qa index build --ray
	# and their tests.
	$(BIN)/pip install --quiet -e '.[dev,scale]'
	@touch $(STAMP)

index: $(STAMP)
	$(BIN)/qa index build

run: index
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check qa ui tests bench
	$(BIN)/ruff format --check qa ui tests bench
	$(BIN)/mypy qa ui bench

test: lint
	$(BIN)/pip check
	$(BIN)/python -m pytest

# Every question set: the seeds' dev set, the shared HOWTO set and the collections in eval/.
EVAL_SETS := ../shared/eval/dev_qa.jsonl=seeds ../shared/eval/python_howto_qa.jsonl $(wildcard eval/*_qa.jsonl)

eval: $(STAMP)
	$(BIN)/qa eval $(EVAL_SETS)

bench: index
	$(BIN)/qa bench --passages 2000

clean:
	rm -rf $(VENV) index/v-* index/CURRENT .pytest_cache .ruff_cache .mypy_cache

# pip-audit over what is installed, less this project (editable) and local version labels
# (torch's +cpu build is audited as the torch release). --strict: a package the advisory service
# cannot look up fails the audit. The canary (starlette 0.27.0, which has published advisories)
# shows whether the advisory service answers at all; where it does not (no route to it), the
# audit is skipped with a warning rather than passing silently.
audit: $(STAMP)
	@$(BIN)/pip freeze --exclude-editable | sed 's/+[^ ]*$$//' > .audit-requirements.txt
	@canary=$$(echo "starlette==0.27.0" | $(BIN)/pip-audit --no-deps --disable-pip \
	    -r /dev/stdin -f json --progress-spinner off 2>/dev/null || true); \
	case "$$canary" in \
	  *'"vulns": [{'*) $(BIN)/pip-audit --strict --no-deps --disable-pip \
	      -r .audit-requirements.txt --progress-spinner off ;; \
	  *) echo "pip-audit: advisory service unreachable (canary starlette 0.27.0 not flagged);" \
	       "dependencies NOT audited" >&2 ;; \
	esac
