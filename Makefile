# Everyday commands; each works on a fresh clone after `make setup`.
PY := .venv/bin/python

.PHONY: setup test run bench bench-quick

setup:
	python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'

test:
	$(PY) -m pytest -n auto

run:
	.venv/bin/minsheng run corpus/ -o outputs/corpus

# Throughput and memory against pdfplumber and jionlp baselines (see bench/bench.py).
bench:
	$(PY) bench/bench.py

bench-quick:
	$(PY) bench/bench.py --quick
