"""The records that flow between stages: one place for every field name.

Data flows one way: ingest -> RawDoc; normalize -> Text; segment -> Segment;
extractors -> Fact; link -> Fact.project / groups; check -> Check; write.
Values are Decimal everywhere; JSON output converts at the edge (write.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any, Literal

FactKind = Literal["target", "actual", "percent", "amount", "count"]
CheckKind = Literal["ratio", "sum", "schedule", "cross_doc"]
Verdict = Literal["consistent", "inconsistent", "unverifiable", "behind", "on schedule"]


class ReadError(Exception):
    """A file that cannot be read. The message is the one-line reason written to
    documents.jsonl, so it must tell a person what is wrong and what to do."""


@dataclass
class RawDoc:
    """What a reader returns: the document as plain text.

    Conventions every reader follows (segment.py relies on them):
    - one paragraph per line ("\\n"); blank lines allowed;
    - a table row is one line, its cells joined by "\\t" (merged cells repeat
      nothing: an empty cell is an empty string between tabs);
    - a table ends with a blank line; a table that runs across pages is one table;
    - numbering labels (一、 （一） 1. ①) are kept at the start of their paragraph.
    """
    text: str
    format: str                      # txt, html, pdf, docx, xlsx, xls
    encoding: str | None = None      # for byte formats that were decoded
    pages: int | None = None
    warnings: list[str] = field(default_factory=list)
    # read by OCR (some pages or all): {"pages": [1-based page numbers], "confidence": mean
    # recognition confidence per char, "fragments": [(text, confidence)] in text order}
    ocr: dict | None = None


@dataclass(frozen=True)
class Quantity:
    """A parsed number: its value, and how it was written.

    `decimals` and `step` record the precision of the written figure in its own
    scale (12.09亿 -> step 0.01亿 = 1e6), so checks can allow the interval the
    figure stands for. `direction` is the hedge: 'more' (余, 多, 以上, 不少于),
    'less' (近, 不足), 'around' (约, 左右), or None.
    """
    value: Decimal
    decimals: int = 0
    step: Decimal = Decimal(1)       # the unit of the last written digit, after scaling
    rounded: bool = False            # written with 万/亿: a rounded figure
    approx: bool = False
    direction: str | None = None

    def bounds(self) -> tuple[Decimal, Decimal]:
        """The interval of true values the written figure allows."""
        v, s = self.value, self.step
        if self.direction == "more":
            return v, v + s
        if self.direction == "less":
            return v - s, v
        if self.direction == "around":
            return v - s, v + s
        if self.rounded:
            return v - s / 2, v + s / 2
        return v, v


@dataclass
class Segment:
    """A span of the normalized text: a heading, a sentence, or a table row/cell."""
    kind: Literal["heading", "sentence", "row", "cell", "boilerplate"]
    start: int
    end: int
    section: int = -1                # index into Doc.sections of the innermost section
    row: int | None = None           # table rows: index of the row in its table
    col: int | None = None           # table cells: column index
    table: int | None = None         # table index in the document


@dataclass
class Section:
    """A heading and everything under it, up to the next heading of its level or above."""
    index: int
    label: str                       # "一、", "（一）", "1.", "①", "" for the document root
    level: int                       # 0 root, 1 一、, 2 （一）, 3 1., 4 ①, 5 table item
    title: str                       # the heading text without its label
    start: int                       # offset of the label
    title_end: int                   # end of the title (first sentence of the item)
    end: int
    parent: int | None = None


@dataclass
class Fact:
    doc: str
    kind: str                        # FactKind
    value: Decimal | None
    unit: str | None
    approx: bool
    text: str
    start: int
    end: int
    project: str | None = None
    level: str | None = None         # amounts: central, provincial, city, county, social
    # beyond the contract
    rule: str = ""
    quantity: Quantity | None = None
    percent_kind: str | None = None  # completion, share, growth, other
    sub_item: str | None = None
    section: int = -1
    place: str | None = None         # a per-county row: the county
    per_unit: bool = False           # a rate such as 30万元/个 or 各60万元
    each: int | None = None          # 各N: how many places the figure stands for
    delta: bool = False              # a change (比上年增加0.46万元), not a stock: never a part or a count
    ocr_confidence: float | None = None   # read by OCR: the lowest confidence of its text
    ocr_low_confidence: bool = False      # ... below readers/ocr.py's LOW_CONFIDENCE

    def contract(self) -> dict[str, Any]:
        return {
            "doc": self.doc, "kind": self.kind, "value": self.value, "unit": self.unit,
            "approx": self.approx, "text": self.text, "start": self.start, "end": self.end,
            "project": self.project, "level": self.level,
            "percent_kind": self.percent_kind, "sub_item": self.sub_item, "place": self.place,
            "direction": self.quantity.direction if self.quantity else None,
            "per_unit": self.per_unit, "each": self.each, "delta": self.delta,
            "rule": self.rule,
        } | ({} if self.ocr_confidence is None else {
            "ocr_confidence": self.ocr_confidence,
            "ocr_low_confidence": self.ocr_low_confidence})


@dataclass
class Check:
    doc: str
    kind: str                        # CheckKind
    verdict: str                     # Verdict
    reported: Decimal | None
    computed: Decimal | None
    evidence: str
    start: int
    end: int
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    parts: list[Decimal] | None = None
    rule: str = ""
    project: str | None = None
    reason: str = ""                 # why unverifiable, or what is off
    discrepancy: Decimal | None = None   # |reported - computed| in the reported unit
    figures: list[tuple[int, int]] = field(default_factory=list)  # offsets of the figures used
    other: dict[str, Any] = field(default_factory=dict)            # schedule / cross_doc details

    def contract(self) -> dict[str, Any]:
        d = {
            "doc": self.doc, "kind": self.kind, "verdict": self.verdict,
            "reported": self.reported, "computed": self.computed,
            "evidence": self.evidence, "start": self.start, "end": self.end,
        }
        if self.kind == "ratio":
            d["numerator"], d["denominator"] = self.numerator, self.denominator
        if self.kind == "sum":
            d["parts"] = self.parts
        d.update({"project": self.project, "rule": self.rule, "reason": self.reason,
                  "discrepancy": self.discrepancy, "figures": [list(f) for f in self.figures]})
        d.update(self.other)
        return d


@dataclass
class DocResult:
    """Everything one input file gives: the pure result of process()."""
    document: dict[str, Any]          # the documents.jsonl row
    text: str | None = None           # the normalized text (OUT/texts/<doc>.txt)
    facts: list[Fact] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def as_dict(obj: Any) -> dict[str, Any]:
    return asdict(obj)
