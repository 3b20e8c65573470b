"""The same report gives the same figures whatever it came as (issue 3): each seed
rendered as a PDF with wrapped lines, a .docx, a GBK web page with site chrome, GBK
text and Big5 text (traditional script) scores within 0.02 overall F1 of the UTF-8
text run, and no format adds a false alarm. Issue 12: a PDF with justified lines and ruled
tables (with and without system fonts), a .docx with tab-separated paragraphs and one with
Word tables score within 0.01."""
from __future__ import annotations

from pathlib import Path

import opencc
import pytest

from pipeline.run import RunOptions, run
from tests.scoring import load_gold, read_run, score
from tools import render

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SEEDS, GOLD = SHARED / "seeds", SHARED / "gold"

pytestmark = pytest.mark.skipif(not SEEDS.is_dir() or not GOLD.is_dir(),
                                reason="../shared/seeds and ../shared/gold are not beside the repo")

FORMATS = {
    "pdf": lambda t, p: render.to_pdf(t, p),
    "docx": lambda t, p: render.to_docx(t, p),
    # issue 12: justified lines and ruled tables whose cells wrap; tables typed with tabs
    "justified.pdf": lambda t, p: render.to_pdf(t, p, justify=True),
    "tabs.docx": lambda t, p: render.to_docx(t, p, tables="tabs"),
    "html": lambda t, p: render.to_html(t, p, encoding="gbk", chrome=True),
    "gbk.txt": lambda t, p: render.to_encoding(t, p, "gbk"),
    # Big5 holds traditional characters (Taiwan forms such as 裡) and no pinyin tone marks
    "big5.txt": lambda t, p: render.to_encoding(opencc.OpenCC("s2tw").convert(t), p, "big5"),
}
STRICT = {"docx", "justified.pdf", "tabs.docx"}     # issue 12: within 0.01 of the text


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    src = root / "in"
    for fmt in ["txt", *FORMATS]:
        (src / fmt).mkdir(parents=True)
    for seed in sorted(SEEDS.glob("*.txt")):
        text = seed.read_text(encoding="utf-8")
        (src / "txt" / seed.name).write_text(text, encoding="utf-8")
        for fmt, make in FORMATS.items():
            make(text, src / fmt / f"{seed.stem}.{fmt}")
    out = root / "out"
    run([src], RunOptions(out=out, jobs=2, quiet=True, progress=False))
    facts, checks, docs = read_run(out)
    golds = load_gold(GOLD)
    results = {}
    for fmt in ["txt", *FORMATS]:
        # the gold of 000_x.txt scores 000_x.<fmt>; documents are told apart by their folder
        g = {f"{Path(n).stem}.{fmt}" if fmt != "txt" else n: v for n, v in golds.items()}
        pick = lambda rows: {k: v for k, v in rows.items() if k in g}
        results[fmt] = score(g, pick(facts), pick(checks), pick(docs))
    return results


def test_text_run_is_the_reference(runs):
    assert runs["txt"]["overall_f1"] >= 0.90


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_format_scores_like_text(runs, fmt):
    ref, got = runs["txt"], runs[fmt]
    assert not got["missing"], got["missing"]
    slack = 0.01 if fmt in STRICT else 0.02
    assert got["overall_f1"] >= ref["overall_f1"] - slack, (fmt, got["f1"], ref["f1"])


def test_pdf_scores_like_text_without_system_fonts(runs, tmp_path):
    """The justified PDFs run with pdfium seeing no system fonts (tests/nofonts.py: as on
    a machine without fonts-noto-cjk) score within 0.01 of the text run."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    src = tmp_path / "in"
    src.mkdir()
    for seed in sorted(SEEDS.glob("*.txt")):
        render.to_pdf(seed.read_text(encoding="utf-8"), src / f"{seed.stem}.pdf", justify=True)
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(root / "tests" / "nofonts.py"), "-m", "pipeline.cli",
                        "run", str(src), "-o", str(out), "-q", "-j", "1", "--no-report"],
                       capture_output=True, text=True, cwd=root, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    facts, checks, docs = read_run(out)
    g = {f"{Path(n).stem}.pdf": v for n, v in load_gold(GOLD).items()}
    got = score(g, facts, checks, docs)
    assert not got["missing"], got["missing"]
    assert got["overall_f1"] >= runs["txt"]["overall_f1"] - 0.01, (got["f1"], runs["txt"]["f1"])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_format_adds_no_false_alarm(runs, fmt):
    tp, fp, fn = runs[fmt]["total"]["audit"]
    assert fp == 0, (fmt, runs[fmt]["total"]["audit"])
