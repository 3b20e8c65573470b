# Everyday commands. On a fresh clone `make run` and `make test` each set up what they need
# (a .venv with the project and its test tools) before doing their job.
PY := .venv/bin/python
STAMP := .venv/.installed

.PHONY: setup test run bench bench-quick bench-pdf

$(STAMP): pyproject.toml
	python3 -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n auto

run: $(STAMP)
	.venv/bin/minsheng run corpus/ -o outputs/corpus

# Throughput and memory against pdfplumber and jionlp baselines (see bench/bench.py).
bench: $(STAMP)
	$(PY) bench/bench.py

bench-quick: $(STAMP)
	$(PY) bench/bench.py --quick

# PDF pages/s: the reader, the whole pipeline and pdfplumber.extract_text on the same files
bench-pdf: $(STAMP)
	$(PY) bench/pdf_reader.py
