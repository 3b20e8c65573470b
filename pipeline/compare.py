"""Several run folders -> the cross-city dataset in DIR.

One row per city × year × category × indicator: what was promised (target), what
was done (actual), the completion rate, the money, and the documents it came from.
The indicator is what the figures count — people (人), money (元), or the thing
built (所, 条, 个 …) — since only figures of one kind add up across projects.
Stored in an embedded DuckDB file (tables documents, records, checks, comparison),
plus comparison.csv (UTF-8 with BOM, so Excel reads the Chinese) and
comparison.parquet, a summary printed to the terminal and a PNG chart of completion
by category for each city.

A project that two documents of one city and year both state (the notice and the
progress report) is counted once: the later document's figures win, the earlier
fill what it leaves out, and both documents are listed.
"""
from __future__ import annotations

import csv
import math
import sys
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.crossdoc import normalize_project, place_of
from pipeline.export import load_run, to_arrow

COMPARISON_COLUMNS = ("city", "province", "year", "category", "indicator", "units", "projects",
                      "target", "actual", "rate", "reported_pct_mean", "amount_yuan",
                      "inconsistent", "project_names", "documents", "runs")
CJK_FONT_NAMES = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "Noto Serif CJK SC",
                  "Source Han Sans SC", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei",
                  "Droid Sans Fallback", "AR PL UMing CN", "SimHei", "Microsoft YaHei")
CJK_FILE_HINTS = ("notosanscjk", "notoserifcjk", "sourcehansans", "wqy", "droidsansfallback", "uming")
FONT_WARNING = ("warning: no CJK font found, so Chinese labels in the chart will show as boxes; "
                "install one with `apt-get install fonts-noto-cjk`")


def _num(x: Any) -> float | None:
    if x is None or isinstance(x, bool):
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _period_key(r: dict[str, Any]) -> tuple[bool, str, str]:
    # a plan (no 截至 date) first, then progress reports by date: later ones restate
    return (r.get("period_end") is not None, str(r.get("period_end") or ""), str(r.get("doc")))


# units that count the same thing; the indicator of a comparison row
UNIT_FAMILY = {"名": "人", "人": "人", "位": "人", "万人": "人", "元": "元", "万元": "元", "亿元": "元"}


def indicator_of(unit: Any) -> str:
    """What a comparison row measures: people (人), money (元), or the thing counted
    (所, 条, 个 ...): figures in one family add up, across projects and cities."""
    if not unit:
        return "(no unit)"
    return UNIT_FAMILY.get(str(unit), str(unit))


def _headline_of(rows: list[dict[str, Any]]) -> dict[str, Any]:
    # the completion record (target and actual) first, else the first target stated:
    # "计划改造221条" comes before its parts "其中盐湖区200条"
    rows = sorted(rows, key=lambda r: r.get("start") or 0)
    for pred in (lambda r: r.get("target") is not None and r.get("actual") is not None,
                 lambda r: r.get("target") is not None, lambda r: True):
        for r in rows:
            if pred(r):
                return r
    return rows[0]


def merge_projects(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One headline record per city, year, project (normalized), sub-item and unit.

    Per-place rows of a target table (盐湖区:160条) are parts, not projects: dropped.
    The latest document that states the project gives the headline figures; earlier
    ones fill what it leaves out; `documents` lists every document that stated it."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if place_of(r):
            continue
        key = (r.get("city"), r.get("year"), normalize_project(str(r.get("project") or "")),
               normalize_project(str(r.get("sub_item") or "")), indicator_of(r.get("unit")))
        groups[key].append(r)
    merged = []
    for rows in groups.values():
        by_doc: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            by_doc[(r.get("run"), r.get("doc"))].append(r)
        heads = sorted((_headline_of(rs) for rs in by_doc.values()), key=_period_key)
        m: dict[str, Any] = {}
        for h in heads:                       # later documents override, field by field
            for k, v in h.items():
                if v is not None:
                    m[k] = v
        m["documents"] = sorted({str(r["doc"]) for r in rows})
        m["runs"] = sorted({str(r.get("run")) for r in rows if r.get("run")})
        m["inconsistent"] = any(r.get("verdict") == "inconsistent" for r in rows)
        merged.append(m)
    # a project stated with its sub-items: the sub-items carry the figures, the parent's
    # total (7285 = 300 + 6125 + 865) would count them twice
    with_subs = {(m.get("city"), m.get("year"), normalize_project(str(m.get("project") or "")),
                  indicator_of(m.get("unit"))) for m in merged if m.get("sub_item")}
    return [m for m in merged if m.get("sub_item") or
            (m.get("city"), m.get("year"), normalize_project(str(m.get("project") or "")),
             indicator_of(m.get("unit"))) not in with_subs]


def comparison_rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = defaultdict(list)
    for r in merge_projects(records):
        groups[(r.get("city"), r.get("year"), r.get("category") or "其他",
                indicator_of(r.get("unit")))].append(r)
    rows = []
    for (city, year, category, indicator), rs in groups.items():
        targets = [_num(r.get("target")) for r in rs]
        actuals = [_num(r.get("actual")) for r in rs]
        pairs = [(a, t) for a, t in zip(actuals, targets) if a is not None and t]
        amounts = [a for a in (_num(r.get("amount_yuan")) for r in rs) if a is not None]
        reported = [p for p in (_num(r.get("reported_pct")) for r in rs) if p is not None]
        rows.append({
            "city": city, "province": next((r.get("province") for r in rs if r.get("province")), None),
            "year": year, "category": category, "indicator": indicator,
            "units": ", ".join(sorted({str(r.get("unit")) for r in rs if r.get("unit")})),
            "projects": len(rs),
            "target": sum(t for t in targets if t is not None) if any(t is not None for t in targets) else None,
            "actual": sum(a for a in actuals if a is not None) if any(a is not None for a in actuals) else None,
            # the rate over the projects that state both figures, so a missing actual is not a 0
            "rate": round(100 * sum(a for a, _ in pairs) / sum(t for _, t in pairs), 2) if pairs else None,
            "reported_pct_mean": round(sum(reported) / len(reported), 2) if reported else None,
            "amount_yuan": sum(amounts) if amounts else None,
            "inconsistent": sum(1 for r in rs if r["inconsistent"]),
            "project_names": "; ".join(sorted({str(r.get("project")) for r in rs if r.get("project")})),
            "documents": "; ".join(sorted({d for r in rs for d in r["documents"]})),
            "runs": "; ".join(sorted({d for r in rs for d in r["runs"]})),
        })
    rows.sort(key=lambda r: (str(r["city"]), r["year"] or 0, r["category"], str(r["indicator"])))
    return rows


def completion_by_category(records: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """series 'city year' -> category -> mean completion (%) of its projects, from the
    counts where both are stated, else the reported rate."""
    acc: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in merge_projects(records):
        t, a = _num(r.get("target")), _num(r.get("actual"))
        pct = 100 * a / t if (t and a is not None) else _num(r.get("reported_pct"))
        if pct is None or not r.get("city"):
            continue
        series = f"{r['city']} {r.get('year') or ''}".strip()
        acc[series][r.get("category") or "其他"].append(pct)
    return {s: {c: sum(v) / len(v) for c, v in cats.items()} for s, cats in acc.items()}


def cjk_font() -> str | None:
    """The family name of an installed CJK font matplotlib can use, registering the file
    when matplotlib's font cache predates the font's installation."""
    from matplotlib import font_manager as fm
    names = {f.name for f in fm.fontManager.ttflist}
    for n in CJK_FONT_NAMES:
        if n in names:
            return n
    for path in fm.findSystemFonts():
        if any(h in Path(path).name.lower().replace("-", "").replace("_", "") for h in CJK_FILE_HINTS):
            try:
                fm.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError) as e:
                print(f"warning: cannot load font {path}: {e}", file=sys.stderr)
                continue
            return fm.FontProperties(fname=path).get_name()
    return None


def write_chart(data: dict[str, dict[str, float]], path: Path, font: str | None) -> None:
    import matplotlib
    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    from extractors.category import _taxonomy
    order = {c.name: i for i, c in enumerate(_taxonomy().categories)}
    cats = sorted({c for s in data.values() for c in s}, key=lambda c: (order.get(c, len(order)), c))
    series = sorted(data)
    rc = {"font.family": [font, "DejaVu Sans"] if font else ["DejaVu Sans"],
          "axes.unicode_minus": False}
    with plt.rc_context(rc):
        width_in = min(18.0, max(8.0, 0.6 * len(cats) * max(1, len(series)) ** 0.5 + 3))
        fig, ax = plt.subplots(figsize=(width_in, 5.0), dpi=120)
        if not cats:
            ax.text(0.5, 0.5, "no project has both a target and a completion figure",
                    ha="center", va="center", transform=ax.transAxes)
            ax.set_axis_off()
        else:
            width = 0.8 / max(1, len(series))
            for i, s in enumerate(series):
                xs = [k + (i - (len(series) - 1) / 2) * width for k in range(len(cats))]
                ys = [data[s].get(c, float("nan")) for c in cats]
                bars = ax.bar(xs, ys, width=width, label=s)
                ax.bar_label(bars, labels=["" if math.isnan(y) else f"{y:.0f}" for y in ys],
                             fontsize=7, padding=1)
            ax.axhline(100, color="#555", lw=0.8, ls="--")
            ax.set_xticks(range(len(cats)), cats)
            ax.set_ylabel("完成率 completion (%)")
            ax.set_title("民生实事 completion by category")
            ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
            ax.grid(axis="y", alpha=0.3)
        tmp = path.with_name(path.name + ".tmp.png")
        with warnings.catch_warnings():
            if font is None:  # compare() already said once that CJK glyphs need a font
                warnings.filterwarnings("ignore", message="Glyph .* missing from")
            fig.tight_layout()
            fig.savefig(tmp)
        plt.close(fig)
        tmp.replace(path)


def _with_run(rows: list[dict[str, Any]], run: str) -> list[dict[str, Any]]:
    return [{**r, "run": run} for r in rows]


def _arrow_comparison(rows: list[dict[str, Any]]) -> pa.Table:
    schema = pa.schema([("city", pa.string()), ("province", pa.string()), ("year", pa.int64()),
                        ("category", pa.string()), ("indicator", pa.string()), ("units", pa.string()),
                        ("projects", pa.int64()), ("target", pa.float64()), ("actual", pa.float64()),
                        ("rate", pa.float64()), ("reported_pct_mean", pa.float64()),
                        ("amount_yuan", pa.float64()), ("inconsistent", pa.int64()),
                        ("project_names", pa.string()), ("documents", pa.string()),
                        ("runs", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def write_duckdb(path: Path, tables: dict[str, pa.Table]) -> None:
    import duckdb
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        for name, table in tables.items():
            con.register("_arrow_in", table)
            con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _arrow_in')
            con.unregister("_arrow_in")
    finally:
        con.close()
    tmp.replace(path)  # a reader never opens a half-built database


def print_summary(rows: list[dict[str, Any]], n_runs: int, n_docs: int, file: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file)
    if not console.is_terminal:
        console.width = 160  # piped or captured: do not squeeze the Chinese columns into 80
    t = Table(title=f"minsheng compare: {n_runs} run(s), {n_docs} document(s), {len(rows)} comparison rows")
    for col, just in (("city", "left"), ("year", "right"), ("category", "left"), ("indicator", "left"),
                      ("projects", "right"), ("target", "right"), ("actual", "right"),
                      ("rate %", "right"), ("amount 万元", "right"), ("inconsistent", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]

    def f(x: Any, d: int = 0) -> str:
        return "" if x is None else f"{x:,.{d}f}"
    for r in rows[:60]:
        t.add_row(str(r["city"] or "?"), str(r["year"] or "?"), r["category"], str(r["indicator"]),
                  str(r["projects"]), f(r["target"]), f(r["actual"]), f(r["rate"], 1),
                  f(r["amount_yuan"] / 1e4 if r["amount_yuan"] is not None else None, 1),
                  str(r["inconsistent"] or ""))
    console.print(t)
    if len(rows) > 60:
        console.print(f"… {len(rows) - 60} more rows in comparison.csv")


def compare(outs: list[Path], out: Path) -> None:
    """Build the cross-city dataset of the run folders `outs` in folder `out`."""
    if not outs:
        raise ValueError("give at least one run folder (the OUT of `minsheng run ... -o OUT`)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    docs: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for o in outs:
        t = load_run(Path(o))
        run = str(Path(o))
        docs += _with_run(t["documents"], run)
        records += _with_run(t["records"], run)
        checks += _with_run(t["checks"], run)

    rows = comparison_rows(records)
    comp = _arrow_comparison(rows)
    write_duckdb(out / "minsheng.duckdb", {
        "documents": to_arrow(docs, "documents"), "records": to_arrow(records, "records"),
        "checks": to_arrow(checks, "checks"), "comparison": comp})
    pq.write_table(comp, out / "comparison.parquet")
    with (out / "comparison.csv").open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(COMPARISON_COLUMNS))
        w.writeheader()
        w.writerows(rows)

    font = cjk_font()
    if font is None:
        print(FONT_WARNING, file=sys.stderr)
    write_chart(completion_by_category(records), out / "completion_by_category.png", font)
    print_summary(rows, len(outs), len(docs))
