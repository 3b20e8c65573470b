# Everyday commands. On a fresh clone `make run` and `make test` each set up what they need
# (a .venv with the locked dependencies, then the project itself) before doing their job.
PY := .venv/bin/python
STAMP := .venv/.installed
LOCK := requirements.lock
UV := uv==0.13.9

.PHONY: setup test run lock bench bench-quick bench-pdf bench-crawl bench-ocr

# The lock decides every version (pip's resolver and its age do not); --require-hashes
# because the lock carries the hash of every file it allows.
$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv .venv
	.venv/bin/pip install --quiet --upgrade pip
	.venv/bin/pip install --quiet --require-hashes -r $(LOCK)
	@# setuptools' notice that any editable install prints (folders named like the packages
	@# in the working directory take precedence): here they are the packages themselves
	PYTHONWARNINGS="ignore:Editable installation" .venv/bin/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-resolve the whole dependency set (pyproject.toml's ranges, dev tools included) for
# any platform and Python >= 3.11 and rewrite the lock; then `make setup` installs it.
lock:
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/pip install --quiet $(UV)
	.venv/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --upgrade --quiet -o $(LOCK)
	rm -f $(STAMP)

setup: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -n auto

run: $(STAMP)
	.venv/bin/minsheng run corpus/ -o outputs/corpus
	@echo "report: $(CURDIR)/outputs/corpus/report.html"

# Throughput and memory against pdfplumber and jionlp baselines (see bench/bench.py).
bench: $(STAMP)
	$(PY) bench/bench.py

bench-quick: $(STAMP)
	$(PY) bench/bench.py --quick

# A crawl's folder (issue 10): seeds copied with shifted figures, reposts; -j1/-j2 with
# the post-run steps, per-phase rates, output sizes, peak memory of parent and tree
bench-crawl: $(STAMP)
	$(PY) bench/bench.py --crawl 2000 --only-crawl

# PDF pages/s: the reader, the whole pipeline and pdfplumber.extract_text on the same files
bench-pdf: $(STAMP)
	$(PY) bench/pdf_reader.py

# Scanned seeds (issue 13): F1 against the text run and OCR pages/s at -j1 and -j2
bench-ocr: $(STAMP)
	$(PY) bench/ocr.py

.PHONY: bench-size
# Seconds for one text of 1, 8 and 50 MB (bench/size.py): cost should grow linearly
bench-size: $(STAMP)
	$(PY) bench/size.py
