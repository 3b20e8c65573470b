"""The same report gives the same figures whatever it came as (issue 3): each seed
rendered as a PDF with wrapped lines, a .docx, a GBK web page with site chrome, GBK
text and Big5 text (traditional script) scores within 0.02 overall F1 of the UTF-8
text run, and no format adds a false alarm."""
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
    "html": lambda t, p: render.to_html(t, p, encoding="gbk", chrome=True),
    "gbk.txt": lambda t, p: render.to_encoding(t, p, "gbk"),
    # Big5 holds traditional characters (Taiwan forms such as 裡) and no pinyin tone marks
    "big5.txt": lambda t, p: render.to_encoding(opencc.OpenCC("s2tw").convert(t), p, "big5"),
}


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
    assert got["overall_f1"] >= ref["overall_f1"] - 0.02, (fmt, got["f1"], ref["f1"])


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_format_adds_no_false_alarm(runs, fmt):
    tp, fp, fn = runs[fmt]["total"]["audit"]
    assert fp == 0, (fmt, runs[fmt]["total"]["audit"])
