"""Python API for notebooks.

    >>> import minsheng
    >>> r = minsheng.extract("corpus/report.txt")       # doctest: +SKIP
    >>> r.facts_df().query("kind == 'percent'")          # doctest: +SKIP
    >>> r.checks_df()[r.checks_df().verdict == "inconsistent"]   # doctest: +SKIP
    >>> minsheng.extract_text("已完成45个，完成率75%。").facts  # doctest: +SKIP

Rows are the same as in a run's facts.jsonl / checks.jsonl / records.jsonl (numbers as
int or float); `Result.raw` keeps the DocResult with Decimal values and Fact/Check objects.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from pipeline.types import DocResult

__all__ = ["Result", "extract", "extract_text"]


@dataclass
class Result:
    """One document's figures and checks, as rows, with pandas views."""
    document: dict[str, Any]
    facts: list[dict[str, Any]] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    text: str | None = None
    raw: "DocResult | None" = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.document.get("status") == "ok"

    @property
    def error(self) -> str | None:
        return self.document.get("error")

    def facts_df(self) -> "pd.DataFrame":
        from pipeline.write import FACT_KEYS
        return _frame(self.facts, FACT_KEYS)

    def checks_df(self) -> "pd.DataFrame":
        from pipeline.write import CHECK_KEYS
        return _frame(self.checks, CHECK_KEYS)

    def records_df(self) -> "pd.DataFrame":
        from pipeline.write import RECORD_KEYS
        return _frame(self.records, RECORD_KEYS)

    def __repr__(self) -> str:
        d = self.document
        if not self.ok:
            return f"<minsheng.Result {d.get('doc')!r} failed: {d.get('error')}>"
        bad = sum(1 for c in self.checks if c.get("verdict") == "inconsistent")
        return (f"<minsheng.Result {d.get('doc')!r} {d.get('city') or ''} {d.get('year') or ''}: "
                f"{len(self.facts)} figures, {len(self.checks)} checks, {bad} inconsistent>")


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> "pd.DataFrame":
    import pandas as pd
    if not rows:
        return pd.DataFrame(columns=list(columns))
    return pd.DataFrame(rows)


_RULES: dict[str, Any] = {}


def _rules(rules_dir: str | os.PathLike[str] | None) -> Any:
    """Rules are compiled once per folder and kept for the notebook's session."""
    key = str(rules_dir or "")
    if key not in _RULES:
        from pipeline import rules
        _RULES[key] = rules.load(Path(rules_dir) if rules_dir else None)
    return _RULES[key]


def _run(doc: str, data: bytes, rules_dir: str | os.PathLike[str] | None) -> Result:
    from pipeline import write
    from pipeline.process import process
    rules = _rules(rules_dir)
    res = process(doc, doc, data, rules)
    e = write.entry_from_result(doc, res, sha256=None, rules_hash=getattr(rules, "hash", None))
    return Result(document=e["document"], facts=e["facts"], checks=e["checks"],
                  records=e["records"], text=res.text, raw=res)


def extract(path: str | os.PathLike[str], *,
            rules_dir: str | os.PathLike[str] | None = None) -> Result:
    """Read one file (txt, html, pdf, docx, xlsx) and return its figures and checks.
    A file that cannot be read gives a Result with `.ok` False and `.error` set."""
    p = Path(path)
    return _run(p.name, p.read_bytes(), rules_dir)


def extract_text(text: str, *, name: str = "text.txt",
                 rules_dir: str | os.PathLike[str] | None = None) -> Result:
    """The same for a string (a pasted paragraph or a whole report)."""
    return _run(name, text.encode("utf-8"), rules_dir)
