"""RapidOCR (PP-OCRv4, the engine minsheng ships) against Debian's tesseract (chi_sim) on
the same scanned pages: how many of the page's figures each reads exactly, how close its
text is, and seconds a page. The truth is the text layer of the PDF the scan was printed
from. Pages come from bench/ocr.py's scans (run it first) or are made here the same way.

    .venv/bin/python bench/ocr_compare.py [--pages-per-doc 2]

Needs `tesseract` with chi_sim (apt-get install tesseract-ocr tesseract-ocr-chi-sim);
without it only RapidOCR is measured.
"""
from __future__ import annotations

import argparse
import difflib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FIGURE = re.compile(r"\d+(?:[.,]\d+)*%?")
KEEP = re.compile(r"[\u4e00-\u9fff0-9A-Za-z.%①-⑳]")


def _figures(text: str) -> Counter:
    return Counter(m.group().replace(",", "") for m in FIGURE.finditer(_fold(text)))


def _fold(text: str) -> str:
    import unicodedata
    return unicodedata.normalize("NFKC", text).replace("．", ".")


def _chars(text: str) -> str:
    return "".join(KEEP.findall(_fold(text)))


def rapid(img) -> str:
    from pipeline.readers import ocr
    import numpy as np

    result, _ = ocr.engine()(np.asarray(img.convert("RGB")))
    return "\n".join(r[1] for r in result or [])


def tesseract(img) -> str:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "page.png"
        img.save(path)
        res = subprocess.run(["tesseract", str(path), "stdout", "-l", "chi_sim"],
                             capture_output=True, text=True, check=True)
    return res.stdout


def main() -> None:
    import pypdfium2 as pdfium

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dir", type=Path, default=REPO / "bench/out/ocr")
    ap.add_argument("--pages-per-doc", type=int, default=2)
    args = ap.parse_args()
    scans, texts = args.dir / "scans", args.dir / "text-pdf"
    if not scans.is_dir():
        sys.exit(f"no scans in {scans}: run bench/ocr.py first")
    engines = {"rapidocr": rapid}
    if shutil.which("tesseract"):
        engines["tesseract"] = tesseract
    else:
        print("tesseract not installed: RapidOCR alone")
    totals = {e: Counter() for e in engines}
    for scan in sorted(scans.glob("*.pdf")):
        sdoc, tdoc = pdfium.PdfDocument(scan), pdfium.PdfDocument(texts / scan.name)
        for i in range(min(args.pages_per_doc, len(sdoc))):
            page = sdoc[i]
            img = page.render(scale=200 / 72, grayscale=True).to_pil()
            tp = tdoc[i].get_textpage()
            truth = tp.get_text_range()
            want = _figures(truth)
            line = [f"{scan.stem[:3]} p{i + 1}: {sum(want.values())} figures"]
            for name, fn in engines.items():
                t = time.perf_counter()
                got_text = fn(img)
                secs = time.perf_counter() - t
                got = _figures(got_text)
                right = sum((want & got).values())
                sim = difflib.SequenceMatcher(None, _chars(truth), _chars(got_text),
                                              autojunk=False).ratio()
                tot = totals[name]
                tot.update(right=right, want=sum(want.values()), got=sum(got.values()),
                           seconds=secs, pages=1)
                tot["sim"] += sim
                line.append(f"{name} {right} right of {sum(got.values())} read, "
                            f"text {sim:.3f}, {secs:.1f} s")
            print("; ".join(line), flush=True)
        sdoc.close()
        tdoc.close()
    for name, t in totals.items():
        print(f"{name}: figures recall {t['right'] / t['want']:.3f}, precision "
              f"{t['right'] / max(t['got'], 1):.3f}; text similarity {t['sim'] / t['pages']:.3f}; "
              f"{t['seconds'] / t['pages']:.1f} s a page ({t['pages']} pages)")


if __name__ == "__main__":
    main()
