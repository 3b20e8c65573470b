"""Score extracted figures against expected ones (the GOLD.md format), per document.

The same matching as the shared evaluation scorer, written here so the tests need
nothing outside the repo:
- percents and amounts: every mention, matched as multisets of values;
- targets: distinct values;
- ratios: distinct (numerator, denominator, reported) among checks a run could verify
  (verdict consistent or inconsistent), with the verdict compared on matched ones;
- sums: distinct (total, sorted parts), likewise;
- audit: the inconsistent ratios and sums, against the run's inconsistent ones;
- metadata: city, province, year, script, period_end compared as strings.

    python tests/scoring.py --gold corpus/expected --run OUT [--per-doc]
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

import yaml

CATEGORIES = ("percents", "amounts", "targets", "ratios", "sums", "audit")
EXTRACTION = ("percents", "amounts", "targets", "ratios", "sums")
META_KEYS = ("city", "province", "year", "script", "period_end")
REL = 1e-6


def num(x: Any) -> float | None:
    if x is None:
        return None
    if isinstance(x, Decimal):
        return float(x)
    return float(x)


def close(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    return math.isclose(num(a), num(b), rel_tol=REL, abs_tol=1e-6)


def name_of(doc: Any) -> str:
    return str(doc).replace("\\", "/").rsplit("/", 1)[-1]


def rkey(xs: Iterable[Any]) -> tuple[float, ...]:
    return tuple(round(num(v), 6) for v in xs)


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else (1.0 if not fn else 0.0)
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def match_lists(gold: list, found: list, same: Callable[[Any, Any], bool]):
    """Greedy one-to-one matching: (tp, fp, fn, pairs)."""
    used = [False] * len(found)
    pairs = []
    for g in gold:
        for i, s in enumerate(found):
            if not used[i] and same(g, s):
                used[i] = True
                pairs.append((g, s))
                break
    tp = len(pairs)
    return tp, len(found) - tp, len(gold) - tp, pairs


def dedupe(items: list, key: Callable[[Any], Any]) -> list:
    seen, out = set(), []
    for it in items:
        k = key(it)
        if k not in seen:
            seen.add(k)
            out.append(it)
    return out


def load_gold(folder: Path | str) -> dict[str, dict]:
    """Expected files by document file name."""
    golds = {}
    for p in sorted(Path(folder).glob("*.yaml")):
        g = yaml.safe_load(p.read_text(encoding="utf-8"))
        golds[name_of(g["doc"])] = g
    return golds


def _same_ratio(a: dict, b: dict) -> bool:
    return (close(a["numerator"], b.get("numerator")) and close(a["denominator"], b.get("denominator"))
            and close(a["reported"], b.get("reported")))


def _same_sum(a: dict, b: dict) -> bool:
    return close(a["total"], b.get("reported")) and rkey(sorted(a["parts"], key=num)) == rkey(
        sorted(b.get("parts") or [], key=num))


def score_doc(g: dict, facts: list[dict], checks: list[dict], document: dict | None) -> dict:
    """Counts (tp, fp, fn) per category, verdict agreement and metadata hits for one document."""
    out: dict[str, Any] = {}

    def values(kind: str) -> list:
        return [f.get("value") for f in facts if f.get("kind") == kind and f.get("value") is not None]

    for cat, kind in (("percents", "percent"), ("amounts", "amount")):
        tp, fp, fn, _ = match_lists([x["value"] for x in g.get(cat) or []], values(kind), close)
        out[cat] = (tp, fp, fn)

    gt = dedupe([x["value"] for x in g.get("targets") or []], lambda v: round(num(v), 6))
    st = dedupe(values("target"), lambda v: round(num(v), 6))
    tp, fp, fn, _ = match_lists(gt, st, close)
    out["targets"] = (tp, fp, fn)

    verdict_ok = verdict_n = 0
    gr = dedupe(g.get("ratios") or [], lambda r: rkey((r["numerator"], r["denominator"], r["reported"])))
    sr = [c for c in checks if c.get("kind") == "ratio" and c.get("verdict") in ("consistent", "inconsistent")
          and c.get("numerator") is not None and c.get("denominator") is not None]
    sr = dedupe(sr, lambda c: rkey((c["numerator"], c["denominator"], c.get("reported") or 0)))
    tp, fp, fn, pairs = match_lists(gr, sr, _same_ratio)
    out["ratios"] = (tp, fp, fn)
    for a, b in pairs:
        verdict_n += 1
        verdict_ok += (b["verdict"] == "consistent") == bool(a["consistent"])

    gs = dedupe(g.get("sums") or [], lambda s: (round(num(s["total"]), 6), rkey(sorted(s["parts"], key=num))))
    ss = [c for c in checks if c.get("kind") == "sum" and c.get("verdict") in ("consistent", "inconsistent")
          and c.get("parts")]
    ss = dedupe(ss, lambda c: (round(num(c.get("reported") or 0), 6), rkey(sorted(c["parts"], key=num))))
    tp, fp, fn, pairs = match_lists(gs, ss, _same_sum)
    out["sums"] = (tp, fp, fn)
    for a, b in pairs:
        verdict_n += 1
        verdict_ok += (b["verdict"] == "consistent") == bool(a["consistent"])

    g_bad = [("ratio", r) for r in gr if not r["consistent"]] + [("sum", s) for s in gs if not s["consistent"]]
    s_bad = [("ratio", c) for c in sr if c["verdict"] == "inconsistent"] + \
            [("sum", c) for c in ss if c["verdict"] == "inconsistent"]
    same_a = lambda a, b: a[0] == b[0] and (_same_ratio(a[1], b[1]) if a[0] == "ratio" else _same_sum(a[1], b[1]))
    tp, fp, fn, _ = match_lists(g_bad, s_bad, same_a)
    out["audit"] = (tp, fp, fn)
    out["verdicts"] = (verdict_ok, verdict_n)

    meta = {}
    for key in META_KEYS:
        want = g.get(key)
        if isinstance(want, datetime.date):
            want = want.isoformat()
        meta[key] = bool(document) and str((document or {}).get(key)) == str(want)
    out["meta"] = meta
    return out


def f1_table(counts: dict) -> dict[str, float]:
    """F1 per category from a score_doc result (or summed counts), rounded to 4 places."""
    return {c: round(prf(*counts[c])[2], 4) for c in CATEGORIES}


def score(golds: dict[str, dict], facts: dict[str, list], checks: dict[str, list],
          documents: dict[str, dict]) -> dict:
    """Per-document counts and F1, and the totals over all documents."""
    per_doc, total = {}, {c: [0, 0, 0] for c in CATEGORIES}
    for name, g in golds.items():
        d = score_doc(g, facts.get(name, []), checks.get(name, []), documents.get(name))
        per_doc[name] = {"counts": d, "f1": f1_table(d)}
        for c in CATEGORIES:
            for i in range(3):
                total[c][i] += d[c][i]
    total_f1 = {c: round(prf(*total[c])[2], 4) for c in CATEGORIES}
    overall = round(sum(total_f1[c] for c in EXTRACTION) / len(EXTRACTION), 4)
    return {"per_doc": per_doc, "total": {c: tuple(v) for c, v in total.items()},
            "f1": total_f1, "overall_f1": overall,
            "missing": sorted(n for n in golds if n not in documents)}


def read_run(run_dir: Path | str) -> tuple[dict, dict, dict]:
    """facts, checks and documents of an OUT folder, keyed by document file name."""
    run_dir = Path(run_dir)
    facts: dict[str, list] = {}
    checks: dict[str, list] = {}
    docs: dict[str, dict] = {}

    def rows(name: str):
        p = run_dir / name
        if not p.exists():
            return []
        return [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]

    for f in rows("facts.jsonl"):
        facts.setdefault(name_of(f.get("doc")), []).append(f)
    for c in rows("checks.jsonl"):
        checks.setdefault(name_of(c.get("doc")), []).append(c)
    for d in rows("documents.jsonl"):
        docs[name_of(d.get("doc"))] = d
    return facts, checks, docs


def render(result: dict, per_doc: bool = False) -> str:
    lines = [f"{'':10} {'precision':>9} {'recall':>7} {'F1':>6} {'tp':>5} {'fp':>5} {'fn':>5}"]
    for c in CATEGORIES:
        tp, fp, fn = result["total"][c]
        p, r, f = (round(v, 4) for v in prf(tp, fp, fn))   # as the shared scorer prints
        lines.append(f"{c:10} {p:9.3f} {r:7.3f} {f:6.3f} {tp:5} {fp:5} {fn:5}")
    if per_doc:
        for name, d in result["per_doc"].items():
            lines.append(f"{name}: " + " ".join(f"{c} {v:.2f}" for c, v in d["f1"].items()))
    lines.append(f"overall F1 {result['overall_f1']:.3f} audit F1 {result['f1']['audit']:.3f}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", required=True)
    ap.add_argument("--run", required=True)
    ap.add_argument("--per-doc", action="store_true")
    a = ap.parse_args()
    facts, checks, docs = read_run(a.run)
    print(render(score(load_gold(a.gold), facts, checks, docs), a.per_doc))


if __name__ == "__main__":
    main()
