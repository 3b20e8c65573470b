"""Several run folders -> the cross-city dataset in DIR.

One row per city × year × category × indicator: what was promised (target), what
was done (actual), the completion rate, the money, and the documents it came from.
The indicator names what the figures count — 人数 (people), 资金 (money), 长度, 面积,
户数, or the number of things of one measure word (数量（所）) — since only figures of
one kind add up across projects.

Each figure has one definition, used wherever it appears: `rate` is 100 × the actuals
over the targets of the projects that state both (the table, the CSV and the chart all
show this one); the inconsistent count of a city is report.counts_by_city's, the same
the report shows (table `cities`, cities.csv, the printed summary); a comparison row's
`inconsistent_projects` counts its projects whose records have an inconsistent verdict.
Reposts (documents.jsonl `duplicate_of`) are left out.
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
from pipeline.report import counts_by_city

COMPARISON_COLUMNS = ("city", "province", "year", "category", "indicator", "units", "projects",
                      "target", "actual", "rate", "reported_pct_mean", "amount_yuan",
                      "inconsistent_projects", "project_names", "documents", "runs")
CITY_COLUMNS = ("city", "documents", "reposts", "inconsistent", "behind")
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


# units that count the same thing (figures in one family add up), and what they count
UNIT_FAMILY = {"名": "人", "人": "人", "位": "人", "万人": "人", "元": "元", "万元": "元", "亿元": "元",
               "公里": "公里", "千米": "公里", "米": "公里", "平方米": "平方米", "万平方米": "平方米",
               "亩": "亩"}
COUNTED = {"人": "人数", "人次": "人次", "户": "户数", "元": "资金", "公里": "长度", "平方米": "面积",
           "亩": "面积（亩）"}


def indicator_of(unit: Any) -> str:
    """What a comparison row counts: 人数 (people), 资金 (money), 长度, 面积, 户数, 人次,
    else the number of things of one measure word, 数量（所）. Figures of one indicator
    add up across projects and cities."""
    if not unit:
        return "(no unit)"
    family = UNIT_FAMILY.get(str(unit), str(unit))
    return COUNTED.get(family, f"数量（{family}）")


def completion_rate(pairs: Iterable[tuple[float, float]]) -> float | None:
    """The one completion rate: 100 × the sum of actuals over the sum of targets, of the
    (actual, target) pairs of projects that state both (a missing actual is not a 0)."""
    pairs = [(a, t) for a, t in pairs if a is not None and t]
    if not pairs:
        return None
    return round(100 * sum(a for a, _ in pairs) / sum(t for _, t in pairs), 2)


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
        amounts = [a for a in (_num(r.get("amount_yuan")) for r in rs) if a is not None]
        reported = [p for p in (_num(r.get("reported_pct")) for r in rs) if p is not None]
        rows.append({
            "city": city, "province": next((r.get("province") for r in rs if r.get("province")), None),
            "year": year, "category": category, "indicator": indicator,
            "units": ", ".join(sorted({str(r.get("unit")) for r in rs if r.get("unit")})),
            "projects": len(rs),
            "target": sum(t for t in targets if t is not None) if any(t is not None for t in targets) else None,
            "actual": sum(a for a in actuals if a is not None) if any(a is not None for a in actuals) else None,
            "rate": completion_rate(zip(actuals, targets)),
            "reported_pct_mean": round(sum(reported) / len(reported), 2) if reported else None,
            "amount_yuan": sum(amounts) if amounts else None,
            "inconsistent_projects": sum(1 for r in rs if r["inconsistent"]),
            "project_names": "; ".join(sorted({str(r.get("project")) for r in rs if r.get("project")})),
            "documents": "; ".join(sorted({d for r in rs for d in r["documents"]})),
            "runs": "; ".join(sorted({d for r in rs for d in r["runs"]})),
        })
    rows.sort(key=lambda r: (str(r["city"]), r["year"] or 0, r["category"], str(r["indicator"])))
    return rows


def completion_by_category(rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """series 'city year' -> 'category · indicator' -> the comparison rows' `rate`: the
    chart draws the very figure the table holds."""
    acc: dict[str, dict[str, float]] = defaultdict(dict)
    for r in rows:
        if r.get("rate") is None or not r.get("city"):
            continue
        series = f"{r['city']} {r.get('year') or ''}".strip()
        acc[series][f"{r['category']} · {r['indicator']}"] = r["rate"]
    return dict(acc)


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
    cats = sorted({c for s in data.values() for c in s},
                  key=lambda c: (order.get(c.split(" · ")[0], len(order)), c))
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
            ax.set_xticks(range(len(cats)), [c.replace(" · ", "\n") for c in cats], fontsize=8)
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
                        ("amount_yuan", pa.float64()), ("inconsistent_projects", pa.int64()),
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


def print_summary(rows: list[dict[str, Any]], n_runs: int, n_docs: int, file: Any = None,
                  cities: list[dict[str, Any]] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file)
    if not console.is_terminal:
        console.width = 160  # piped or captured: do not squeeze the Chinese columns into 80
    t = Table(title=f"minsheng compare: {n_runs} run(s), {n_docs} document(s), {len(rows)} comparison rows")
    for col, just in (("city", "left"), ("year", "right"), ("category", "left"), ("indicator", "left"),
                      ("projects", "right"), ("target", "right"), ("actual", "right"),
                      ("rate %", "right"), ("amount 万元", "right"),
                      ("inconsistent projects", "right")):
        t.add_column(col, justify=just)  # type: ignore[arg-type]

    def f(x: Any, d: int = 0) -> str:
        return "" if x is None else f"{x:,.{d}f}"
    for r in rows[:60]:
        t.add_row(str(r["city"] or "?"), str(r["year"] or "?"), r["category"], str(r["indicator"]),
                  str(r["projects"]), f(r["target"]), f(r["actual"]), f(r["rate"], 1),
                  f(r["amount_yuan"] / 1e4 if r["amount_yuan"] is not None else None, 1),
                  str(r["inconsistent_projects"] or ""))
    console.print(t)
    if len(rows) > 60:
        console.print(f"… {len(rows) - 60} more rows in comparison.csv")
    if cities:
        ct = Table(title="inconsistent and behind-schedule findings by city (as in report.html)")
        for col in CITY_COLUMNS:
            ct.add_column(col, justify="left" if col == "city" else "right")
        for c in cities:
            ct.add_row(*(str(c[k]) for k in CITY_COLUMNS))
        console.print(ct)


def compare(outs: list[Path], out: Path) -> None:
    """Build the cross-city dataset of the run folders `outs` in folder `out`."""
    if not outs:
        raise ValueError("give at least one run folder (the OUT of `minsheng run ... -o OUT`)")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    docs: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    by_city: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CITY_COLUMNS[1:], 0))
    for o in outs:
        t = load_run(Path(o))
        run = str(Path(o))
        dup = {d["doc"] for d in t["documents"] if d.get("duplicate_of")}
        for city, n in counts_by_city(t["documents"], t["checks"]).items():
            for k, v in n.items():
                by_city[city][k] += v
        docs += _with_run(t["documents"], run)
        # a repost's records and checks are its original's: counted once
        records += _with_run([r for r in t["records"] if r.get("doc") not in dup], run)
        checks += _with_run([c for c in t["checks"] if c.get("doc") not in dup], run)

    rows = comparison_rows(records)
    comp = _arrow_comparison(rows)
    cities = [{"city": c, **n} for c, n in sorted(by_city.items()) if c]
    city_table = pa.Table.from_pylist(cities, schema=pa.schema(
        [("city", pa.string())] + [(k, pa.int64()) for k in CITY_COLUMNS[1:]]))
    write_duckdb(out / "minsheng.duckdb", {
        "documents": to_arrow(docs, "documents"), "records": to_arrow(records, "records"),
        "checks": to_arrow(checks, "checks"), "comparison": comp, "cities": city_table})
    pq.write_table(comp, out / "comparison.parquet")
    for name, cols, data in (("comparison", COMPARISON_COLUMNS, rows),
                             ("cities", CITY_COLUMNS, cities)):
        with (out / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(cols))
            w.writeheader()
            w.writerows(data)

    font = cjk_font()
    if font is None:
        print(FONT_WARNING, file=sys.stderr)
    write_chart(completion_by_category(rows), out / "completion_by_category.png", font)
    print_summary(rows, len(outs), len(docs), cities=cities)
