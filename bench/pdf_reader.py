"""Pages per second of minsheng's PDF reader, of the whole per-file pipeline on PDFs, and of
pdfplumber's own extract_text, on the same files in one run (issue 3's figure).

    .venv/bin/python bench/pdf_reader.py [PDF or folder ...]   (default: ../shared/fixtures/pdf)

All three rates divide the same page count (every page of every file, as pdfium counts
them) by their own time, so a file the reader refuses (e.g. no character map) still costs
the reader and the pipeline the time they took to refuse it; the refusals are listed.
Timings on a shared machine are noisy: run it a few times.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium

from pipeline.process import process
from pipeline.readers import pdf as reader
from pipeline.rules import load
from pipeline.types import ReadError


def main(args: list[str]) -> None:
    roots = [Path(a) for a in args] or [Path(__file__).resolve().parents[1].parent / "shared/fixtures/pdf"]
    files = sorted(p for r in roots for p in ([r] if r.is_file() else r.rglob("*.pdf")))
    if not files:
        sys.exit("no PDF files: name a file or folder")
    kept, data, pages = [], [], 0
    for p in files:
        d = p.read_bytes()
        try:
            pdf = pdfium.PdfDocument(d)
        except pdfium.PdfiumError as e:
            print(f"skipped {p.name}: pdfium cannot open it ({e})")
            continue
        pages += len(pdf)
        pdf.close()
        kept.append(p)
        data.append((p.name, d))
    files = kept
    rules = load()
    process("warm", "warm.txt", "截至9月底,已完工49个,完成率82%".encode(), rules)   # imports, jieba

    refused = []
    t = time.perf_counter()
    for n, d in data:
        try:
            reader.read(d, n)
        except ReadError as e:
            refused.append(f"{n}: {e}")
    t_ours = time.perf_counter() - t

    t = time.perf_counter()
    for n, d in data:
        process(n, n, d, rules)
    t_whole = time.perf_counter() - t

    t = time.perf_counter()
    plumbed = 0
    for p in files:
        with pdfplumber.open(p) as pdf:
            for page in pdf.pages:
                page.extract_text()
                page.close()
                plumbed += 1
    t_plumb = time.perf_counter() - t
    assert plumbed == pages, (plumbed, pages)

    ours, whole, plumb = pages / t_ours, pages / t_whole, pages / t_plumb
    print(f"{len(files)} PDFs, {pages} pages, one process"
          + (f"; the reader refused {len(refused)} file(s)" if refused else ""))
    for line in refused[:5]:
        print(f"    {line[:110]}")
    print(f"  minsheng PDF reader        {ours:7.1f} pages/s  ({ours / plumb:.1f}x pdfplumber)"
          f"  {1000 * t_ours / pages:6.2f} ms/page")
    print(f"  minsheng whole pipeline    {whole:7.1f} pages/s  ({whole / plumb:.1f}x pdfplumber)"
          f"  {1000 * t_whole / pages:6.2f} ms/page")
    print(f"    of which after the reader (whole - reader)           "
          f"{1000 * (t_whole - t_ours) / pages:6.2f} ms/page, "
          f"{1000 * (t_whole - t_ours) / len(files):.2f} ms/file")
    print(f"  pdfplumber extract_text    {plumb:7.1f} pages/s"
          f"                     {1000 * t_plumb / pages:6.2f} ms/page")


if __name__ == "__main__":
    main(sys.argv[1:])
