"""`minsheng explain "一段文字"`: the figures found in a passage and the rules behind
each, and the checks they make. How a newcomer learns the rules, and how a user
learns why a figure was read as it was."""
from __future__ import annotations

from pipeline.process import process_text
from pipeline.rules import Rules, load


def _fmt(v) -> str:
    return "" if v is None else format(v, "f") if hasattr(v, "as_tuple") else str(v)


def explain(text: str, rules: Rules | None = None) -> str:
    rules = rules or load()
    r = process_text("explain", text, rules)
    norm = r.text or ""
    lines = [f"normalized: {norm}", ""]
    if not r.facts:
        lines.append("no figures found")
    for f in r.facts:
        extra = [x for x in (f.percent_kind, f.level and f"level={f.level}",
                             f.per_unit and "per-unit", f.each and f"each x{f.each}",
                             f.quantity and f.quantity.direction and f"hedge={f.quantity.direction}") if x]
        lines.append(f"[{f.start}:{f.end}] {f.text!r:14} {f.kind:7} value={_fmt(f.value)} "
                     f"unit={f.unit or '-'} {' '.join(extra)}")
        lines.append(f"    rules: {f.rule.replace('+', ' + ')}")
        if f.project:
            lines.append(f"    project: {f.project}" + (f" / {f.sub_item}" if f.sub_item else ""))
    if r.checks:
        lines.append("")
        lines.append("checks:")
    for c in r.checks:
        what = (f"{_fmt(c.numerator)} / {_fmt(c.denominator)}" if c.kind == "ratio"
                else " + ".join(_fmt(p) for p in (c.parts or [])))
        lines.append(f"  {c.kind:8} {c.verdict:12} reported={_fmt(c.reported)} computed={_fmt(c.computed)} "
                     f"from {what}  [{c.rule}] {c.reason}")
    return "\n".join(lines)
