"""Real pages hold their score: a ratchet over ../shared/realdev (48 public pages, gold by hand)
and, where their texts have been fetched, corpus/real, corpus/real2, corpus/real3 and corpus/real4
(35, 28, 30 and 30 fresh pages, gold by hand).

The floors are in tests/real_scores.yaml, per category over the whole set, with the audit's
precision and recall apart: a false alarm costs as much as a missed error. Raise them with
`python tests/test_realdev.py --update` (they only ever go up). realdev's texts are written by
others and stay in ../shared; corpus/real*/texts are git-ignored (fetch them from index.yaml), so
the fresh sets are checked only where they are present.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scoring  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SETS = {
    "realdev": ROOT.parent / "shared" / "realdev",
    "fresh": ROOT / "corpus" / "real",
    "fresh2": ROOT / "corpus" / "real2",
    "fresh3": ROOT / "corpus" / "real3",
    "fresh4": ROOT / "corpus" / "real4",
}
FLOORS = Path(__file__).with_name("real_scores.yaml")


def run_set(folder: Path) -> dict:
    from pipeline import rules as rules_mod
    from pipeline.process import process
    rules = rules_mod.load()
    golds = scoring.load_gold(folder / "gold")
    facts, checks, docs = {}, {}, {}
    for name in golds:
        p = folder / "texts" / name
        result = process(name, name, p.read_bytes(), rules)
        facts[name] = [f.contract() for f in result.facts]
        checks[name] = [c.contract() for c in result.checks]
        docs[name] = dict(result.document)
    result = scoring.score(golds, facts, checks, docs)
    tp, fp, fn = result["total"]["audit"]
    p, r, _ = scoring.prf(tp, fp, fn)
    figures = dict(result["f1"], overall=result["overall_f1"],
                   audit_precision=round(p, 4), audit_recall=round(r, 4))
    figures["_render"] = scoring.render(result)
    return figures


def available(name: str) -> bool:
    folder = SETS[name]
    golds = list((folder / "gold").glob("*.yaml"))
    return bool(golds) and all((folder / "texts" / p.name[: -len(".yaml")]).exists() for p in golds)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(SETS))
def test_real_pages_hold_their_floor(name):
    if not available(name):
        pytest.skip(f"{SETS[name]} has no texts here (realdev lives in ../shared; "
                    "corpus/real/texts is fetched from corpus/real/index.yaml)")
    floors = (yaml.safe_load(FLOORS.read_text(encoding="utf-8")) or {}).get(name) or {}
    now = run_set(SETS[name])
    print("\n" + now.pop("_render"))
    assert floors, f"no floors recorded for {name}: python tests/test_realdev.py --update"
    drops = [f"{k}: {now[k]:.4f} < {v:.4f}" for k, v in floors.items() if now[k] + 1e-9 < v]
    assert not drops, f"{name} fell below tests/real_scores.yaml:\n  " + "\n  ".join(drops)


def update() -> None:
    floors = yaml.safe_load(FLOORS.read_text(encoding="utf-8")) if FLOORS.exists() else {}
    floors = floors or {}
    for name in SETS:
        if not available(name):
            print(f"{name}: no texts here, floors kept")
            continue
        now = run_set(SETS[name])
        print(name, now.pop("_render"), sep="\n")
        old = floors.get(name) or {}
        floors[name] = {k: max(v, float(old.get(k, 0.0))) for k, v in now.items()}
    FLOORS.write_text("# Floors of tests/test_realdev.py (F1 per category, audit precision and recall);\n"
                      "# raised by `python tests/test_realdev.py --update`, never lowered by hand.\n"
                      + yaml.safe_dump(floors, sort_keys=True), encoding="utf-8")


if __name__ == "__main__":
    if "--update" in sys.argv:
        update()
