"""corpus/: sample reports written for this project, their expected figures, and a ratchet.

The first tests keep the expected files honest (every sample has one, the GOLD.md
shape, the arithmetic of every ratio and sum, figures that really are in the text).
The last runs the real pipeline over corpus/ and fails when any document's score in
any category falls below the one recorded in corpus/scores.yaml.
"""
from __future__ import annotations

import datetime
import sys
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scoring  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
EXPECTED = CORPUS / "expected"
SCORES = CORPUS / "scores.yaml"
NOT_SAMPLES = {"README.md", "scores.yaml"}
RENDERED = {".html", ".docx", ".pdf"}   # made from a .txt sample with tools/render.py

PERCENT_KINDS = {"completion", "share", "growth", "other"}
LEVELS = {"central", "provincial", "city", "county", "social", None}
# hedges that let a ratio hold for an interval the point value misses (GOLD.md)
HEDGE_WORDS = ("more than", "at least", "less than", "around", "rounded", "interval")


def samples() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name not in NOT_SAMPLES)


def expected(name: str) -> dict:
    return yaml.safe_load((EXPECTED / f"{name}.yaml").read_text(encoding="utf-8"))


def decode(p: Path) -> str:
    """The samples' own encodings, named in their file names."""
    enc = "gbk" if "_gbk" in p.stem else "big5" if "_big5" in p.stem else "utf-8"
    return p.read_bytes().decode(enc)


def test_corpus_is_big_enough():
    names = [p.name for p in samples()]
    assert len([n for n in names if n.endswith(".txt")]) >= 10
    for ext in RENDERED:
        assert any(n.endswith(ext) for n in names), f"no {ext} sample"


def test_every_sample_has_expected_figures_and_back():
    have = {p.name for p in samples()}
    exp = {p.name[: -len(".yaml")] for p in EXPECTED.glob("*.yaml")}
    assert have - exp == set(), "samples without corpus/expected/<name>.yaml"
    assert exp - have == set(), "expected files without their sample"


@pytest.mark.parametrize("name", [p.name for p in samples()])
def test_expected_file_has_the_gold_shape(name):
    g = expected(name)
    assert g["doc"] == name
    for key in ("city", "province", "year", "script", "period_end",
                "percents", "amounts", "ratios", "sums", "targets"):
        assert key in g, key
    assert g["script"] in ("simplified", "traditional")
    assert g["period_end"] is None or isinstance(g["period_end"], datetime.date)
    assert g["year"] is None or 2000 < g["year"] < 2100
    for x in g["percents"] or []:
        assert x["kind"] in PERCENT_KINDS and isinstance(x["value"], (int, float)) and x["text"]
    for x in g["amounts"] or []:
        assert x["level"] in LEVELS and x["value"] > 0 and x["text"]
    for x in g["targets"] or []:
        assert x["value"] > 0 and x["unit"]
    for r in g["ratios"] or []:
        assert isinstance(r["consistent"], bool) and r["denominator"] > 0
    for s in g["sums"] or []:
        assert isinstance(s["consistent"], bool) and len(s["parts"]) >= 2


def _decimals(x) -> int:
    s = str(x)
    return len(s.split(".")[1]) if "." in s else 0


def point_consistent(n, d, reported) -> tuple[Decimal, bool]:
    """The plain rule on the stated values: n/d*100 rounded half up or truncated."""
    r = Decimal(str(n)) / Decimal(str(d)) * 100
    q = Decimal(1).scaleb(-_decimals(reported))
    rep = Decimal(str(reported))
    return r, r.quantize(q, ROUND_HALF_UP) == rep or r.quantize(q, ROUND_DOWN) == rep


@pytest.mark.parametrize("name", [p.name for p in samples()])
def test_expected_arithmetic_is_right(name):
    """Every verdict in the expected file follows from its numbers; where a hedged count
    (余, 多) makes the interval differ from the point value, a note says so."""
    g = expected(name)
    for r in g["ratios"] or []:
        value, ok = point_consistent(r["numerator"], r["denominator"], r["reported"])
        if ok != r["consistent"]:
            note = r.get("note", "")
            assert r["consistent"] and any(w in note for w in HEDGE_WORDS), (
                f"{name}: {r['numerator']}/{r['denominator']} = {value:.4f}% vs {r['reported']}")
        if not r["consistent"]:
            assert "REAL ERROR" in r.get("note", ""), "every real error is documented"
    for s in g["sums"] or []:
        total = sum(Decimal(str(p)) for p in s["parts"])
        if (total == Decimal(str(s["total"]))) != s["consistent"]:
            # figures rounded to their written decimals may add up within their rounding
            # (GOLD.md): such a verdict must say so
            assert s["consistent"] and "rounded" in s.get("note", ""), (
                f"{name}: parts {s['parts']} add to {total}, total {s['total']}")
        if not s["consistent"]:
            assert "REAL ERROR" in s.get("note", "")


@pytest.mark.parametrize("name", [p.name for p in samples() if p.suffix == ".txt"])
def test_expected_figures_stand_in_the_text_in_order(name):
    text = decode(CORPUS / name)
    assert 1500 <= len(text) <= 5000, f"{name}: {len(text)} characters"
    g = expected(name)
    for cat in ("percents", "amounts"):
        pos = 0
        for x in g[cat] or []:
            i = text.find(x["text"], pos)
            assert i >= 0, f"{name}: {cat} {x['text']!r} not found after offset {pos}"
            pos = i + 1
    # every % sign (and 百分之) in the text is an expected percent
    marks = text.count("%") + text.count("％") + text.count("百分之")
    assert marks == len(g["percents"] or [])


@pytest.mark.parametrize("name", [p.name for p in samples() if p.suffix in RENDERED])
def test_rendered_samples_expect_what_their_source_does(name):
    src = Path(name).stem + ".txt"
    a, b = expected(name), expected(src)
    assert a.pop("doc") == name and b.pop("doc") == src
    assert a == b


# ---------------------------------------------------------------- the ratchet

def run_pipeline() -> tuple[dict, dict, dict]:
    """facts, checks and document rows per sample, from the pure per-file function."""
    try:
        from pipeline import rules as rules_mod
        from pipeline.process import process
    except ImportError as e:  # pragma: no cover - the pipeline's own tests say why
        pytest.skip(f"pipeline not importable: {e}")
    rules = rules_mod.load()
    facts, checks, docs = {}, {}, {}
    for p in samples():
        try:
            result = process(p.name, p.name, p.read_bytes(), rules)
        except NotImplementedError:
            pytest.skip("pipeline.process.process is not implemented yet")
        facts[p.name] = [f.contract() for f in result.facts]
        checks[p.name] = [c.contract() for c in result.checks]
        docs[p.name] = dict(result.document)
    return facts, checks, docs


def test_scores_do_not_fall_below_the_ratchet():
    recorded = (yaml.safe_load(SCORES.read_text(encoding="utf-8")) or {}).get("documents") or {}
    facts, checks, docs = run_pipeline()
    result = scoring.score({p.name: expected(p.name) for p in samples()}, facts, checks, docs)
    print("\n" + scoring.render(result, per_doc=True))
    drops, rises = [], []
    for name, d in result["per_doc"].items():
        floor = recorded.get(name) or {}
        for cat in scoring.CATEGORIES:
            now, was = d["f1"][cat], float(floor.get(cat, 0.0))
            if now + 1e-9 < was:
                drops.append(f"{name} {cat}: {now:.4f} < recorded {was:.4f}")
            elif now > was + 1e-9:
                rises.append(f"{name} {cat}: {was:.4f} -> {now:.4f}")
    if rises:
        print("scores rose; raise the ratchet in corpus/scores.yaml "
              "(python tests/test_corpus.py --update):\n  " + "\n  ".join(rises))
    assert not drops, "scores fell below corpus/scores.yaml:\n  " + "\n  ".join(drops)


def update_scores() -> None:
    """Write the current per-document F1 into corpus/scores.yaml (only ever upward)."""
    recorded = (yaml.safe_load(SCORES.read_text(encoding="utf-8")) or {}).get("documents") or {}
    facts, checks, docs = run_pipeline()
    result = scoring.score({p.name: expected(p.name) for p in samples()}, facts, checks, docs)
    out = {}
    for name, d in result["per_doc"].items():
        old = recorded.get(name) or {}
        out[name] = {c: max(d["f1"][c], float(old.get(c, 0.0))) for c in scoring.CATEGORIES}
    write_scores(out)
    print(scoring.render(result, per_doc=True))


def write_scores(per_doc: dict[str, dict[str, float]]) -> None:
    head = ("# The ratchet of tests/test_corpus.py: each document's F1 per category on corpus/\n"
            "# (percents, amounts, targets, ratios, sums) and its audit F1 (the inconsistent\n"
            "# ratios and sums found, no false alarm). The test fails when a score falls below\n"
            "# its value here; raise them with `python tests/test_corpus.py --update`.\n")
    lines = ["documents:"]
    for name in sorted(per_doc):
        cells = ", ".join(f"{c}: {per_doc[name][c]:.4f}" for c in scoring.CATEGORIES)
        lines.append(f"  {name}: {{{cells}}}")
    SCORES.write_text(head + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if "--update" in sys.argv:
        update_scores()
    elif "--floor" in sys.argv:
        write_scores({p.name: {c: 0.0 for c in scoring.CATEGORIES} for p in samples()})
