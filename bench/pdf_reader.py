"""Pages per second of minsheng's PDF reader, of the whole per-file pipeline on PDFs, and of
pdfplumber's own extract_text, on the same files in one run (issue 3's figure).

    .venv/bin/python bench/pdf_reader.py [PDF or folder ...]   (default: ../shared/fixtures/pdf)
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pdfplumber

from pipeline.process import process
from pipeline.readers import pdf as reader
from pipeline.rules import load


def main(args: list[str]) -> None:
    roots = [Path(a) for a in args] or [Path(__file__).resolve().parents[1].parent / "shared/fixtures/pdf"]
    files = sorted(p for r in roots for p in ([r] if r.is_file() else r.rglob("*.pdf")))
    if not files:
        sys.exit("no PDF files: name a file or folder")
    data = [(p.name, p.read_bytes()) for p in files]
    rules = load()
    process("warm", "warm.txt", "截至9月底,已完工49个,完成率82%".encode(), rules)   # imports, jieba

    t = time.perf_counter()
    pages = sum(reader.read(d, n).pages or 0 for n, d in data)
    ours = pages / (time.perf_counter() - t)

    t = time.perf_counter()
    for n, d in data:
        process(n, n, d, rules)
    whole = pages / (time.perf_counter() - t)

    t = time.perf_counter()
    plumbed = 0
    for p in files:
        with pdfplumber.open(p) as pdf:
            for page in pdf.pages:
                page.extract_text()
                page.close()
                plumbed += 1
    plumb = plumbed / (time.perf_counter() - t)

    print(f"{len(files)} PDFs, {pages} pages, one process")
    print(f"  minsheng PDF reader        {ours:7.1f} pages/s  ({ours / plumb:.1f}x pdfplumber)")
    print(f"  minsheng whole pipeline    {whole:7.1f} pages/s  ({whole / plumb:.1f}x pdfplumber)")
    print(f"  pdfplumber extract_text    {plumb:7.1f} pages/s")


if __name__ == "__main__":
    main(sys.argv[1:])
