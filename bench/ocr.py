"""Issue 13's bar: the seeds rendered as PDF (tools/render.py), printed to grey images at
200 dpi with a slight tilt and blur, saved as image-only PDFs (tools/scan.py), run through
minsheng with -j1 and -j2, scored against the gold next to the text run; every offset must
point at its text. Reports OCR pages/s for each -j.

    .venv/bin/python bench/ocr.py [--seeds DIR] [--gold DIR] [--out DIR] [--jobs 1 2]

Scans and runs go under --out (default bench/out/ocr, git-ignored). The seeds and the
scorer come from ../shared at run time; without them the bench says so and stops.
Run it with no network to show nothing is fetched (e.g. `unshare -n`, as root).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))


def make_scans(seeds: Path, out: Path, dpi: int, tilt: float, blur: float) -> int:
    """Write <seed>.pdf scans of every seed into out; returns the page count."""
    import pypdfium2 as pdfium

    from tools import render, scan

    out.mkdir(parents=True, exist_ok=True)
    pages = 0
    for seed in sorted(seeds.glob("*.txt")):
        text_pdf = out.parent / "text-pdf" / f"{seed.stem}.pdf"
        text_pdf.parent.mkdir(parents=True, exist_ok=True)
        render.to_pdf(seed.read_text(encoding="utf-8"), text_pdf)
        data = scan.pdf_to_scan(text_pdf.read_bytes(), dpi=dpi, tilt=tilt, blur=blur)
        (out / f"{seed.stem}.pdf").write_bytes(data)
        doc = pdfium.PdfDocument(data)
        pages += len(doc)
        doc.close()
    return pages


def run(inputs: Path, out: Path, jobs: int) -> float:
    """minsheng run --force; returns the wall seconds."""
    t = time.perf_counter()
    subprocess.run([str(REPO / ".venv/bin/minsheng"), "run", str(inputs), "-o", str(out),
                    "-j", str(jobs), "--force", "--no-report", "-q", "--timeout", "3600"],
                   check=False, cwd=REPO)
    return time.perf_counter() - t


def score(gold: Path, out: Path, stem: bool) -> str:
    cmd = [sys.executable, str(SHARED / "eval/score.py"), "--gold", str(gold), "--run", str(out)]
    res = subprocess.run(cmd + (["--stem"] if stem else []), capture_output=True, text=True)
    return res.stdout


def offsets_ok(out: Path) -> tuple[int, int]:
    """(facts whose [start, end) in texts/ is their text, all facts)."""
    good = n = 0
    texts: dict[str, str] = {}
    for line in (out / "facts.jsonl").read_text(encoding="utf-8").splitlines():
        f = json.loads(line)
        doc = f["doc"]
        if doc not in texts:
            texts[doc] = (out / "texts" / f"{doc}.txt").read_text(encoding="utf-8")
        n += 1
        good += texts[doc][f["start"]:f["end"]] == f["text"]
    return good, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, default=SHARED / "seeds")
    ap.add_argument("--gold", type=Path, default=SHARED / "gold")
    ap.add_argument("--out", type=Path, default=REPO / "bench/out/ocr")
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--tilt", type=float, default=0.6, help="degrees, alternating by page")
    ap.add_argument("--blur", type=float, default=0.6, help="Gaussian radius in pixels")
    args = ap.parse_args()
    if not args.seeds.is_dir() or not (SHARED / "eval/score.py").is_file():
        sys.exit(f"no seeds at {args.seeds} or no scorer in {SHARED / 'eval'}: nothing to bench")

    scans = args.out / "scans"
    pages = make_scans(args.seeds, scans, args.dpi, args.tilt, args.blur)
    print(f"{pages} scanned pages ({args.dpi} dpi, tilt ±{args.tilt}°, blur {args.blur}) "
          f"in {scans}")
    text_out = args.out / "run-text"
    run(args.seeds, text_out, 1)
    text_score = score(args.gold, text_out, stem=False).strip().splitlines()[-1]
    print(f"text run:    {text_score}")
    for jobs in args.jobs:
        out = args.out / f"run-scan-j{jobs}"
        seconds = run(scans, out, jobs)
        report = score(args.gold, out, stem=True)
        good, n = offsets_ok(out)
        docs = [json.loads(x) for x in (out / "documents.jsonl").read_text().splitlines()]
        conf = [d.get("ocr_confidence") for d in docs]
        facts = [json.loads(x) for x in (out / "facts.jsonl").read_text().splitlines()]
        low = sum(bool(f.get("ocr_low_confidence")) for f in facts)
        print(f"scans -j{jobs}: {report.strip().splitlines()[-1]}; {pages / seconds:.3f} "
              f"pages/s ({seconds:.0f} s for {pages} pages, start-up included); offsets "
              f"{good}/{n} point at their text; mean confidence per doc {conf}; "
              f"{low} facts flagged low-confidence")
        if jobs == args.jobs[0]:
            print(report)


if __name__ == "__main__":
    main()
