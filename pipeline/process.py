"""The per-file work: one pure function of (file bytes, rules) -> DocResult.

Kept free of I/O and global state so a process pool, or an executor on Dask or
Ray, can run it unchanged.
"""
from __future__ import annotations

import hashlib
from bisect import bisect_right

from extractors.meta import detect_script, extract_meta
from pipeline import ingest
from pipeline.check import check
from pipeline.extract import extract
from pipeline.link import link
from pipeline.normalize import normalize
from pipeline.records import build_records
from pipeline.rules import Rules
from pipeline.segment import segment
from pipeline.types import DocResult, ReadError


def _document_row(doc: str, data: bytes, rules: Rules, **kw) -> dict:
    row = {"doc": doc, "status": "ok", "error": None, "format": None, "script": None,
           "city": None, "province": None, "year": None, "period_end": None}
    row.update(kw)
    row.update({"sha256": hashlib.sha256(data).hexdigest(), "rules_hash": rules.hash})
    return row


def process(doc: str, name: str, data: bytes, rules: Rules, **read_opts) -> DocResult:
    """Read, normalize, segment, extract, link and check one document.

    doc: the id written to the outputs (path relative to its INPUT, '/'-separated);
    name: the file name (its suffix picks the reader); data: the file's bytes.
    A file that cannot be read gives a DocResult whose document row has
    status 'failed' and a one-line error; it never raises for bad input.
    """
    try:
        raw = ingest.read(name, data, **read_opts)
    except ReadError as e:
        fmt = ingest.sniff_format(name, data) if data else None
        return DocResult(document=_document_row(doc, data, rules, status="failed",
                                                error=str(e).splitlines()[0] if str(e) else "unreadable",
                                                format=fmt))
    extra = {"encoding": raw.encoding, "pages": raw.pages, "warnings": raw.warnings or None}
    if raw.ocr:
        extra.update(ocr=True, ocr_pages=raw.ocr["pages"],
                     ocr_confidence=round(raw.ocr["confidence"], 3))
    result = process_text(doc, raw.text, rules, fmt=raw.format, data=data, extra=extra)
    if raw.ocr:
        flag_ocr(result, raw.ocr["fragments"])
    return result


def flag_ocr(result: DocResult, fragments: list[tuple[str, float]]) -> None:
    """Each fact of an OCR'd document gets the lowest recognition confidence of the text
    it was read from, and is flagged below ocr.LOW_CONFIDENCE; a check using a flagged
    figure is flagged too, so an auditor knows to look at the page."""
    from pipeline.readers.ocr import LOW_CONFIDENCE, place

    spans = place(result.text or "", fragments)
    starts = [s for s, _, _ in spans]
    low: list[tuple[int, int]] = []
    for f in result.facts:
        i = max(0, bisect_right(starts, f.start) - 1)   # spans do not overlap
        confs = []
        while 0 <= i < len(spans) and spans[i][0] < f.end:
            if spans[i][1] > f.start:
                confs.append(spans[i][2])
            i += 1
        if confs:
            f.ocr_confidence = round(min(confs), 3)
            if f.ocr_confidence < LOW_CONFIDENCE:
                f.ocr_low_confidence = True
                low.append((f.start, f.end))
    for c in result.checks:
        used = c.figures or [(c.start, c.end)]
        if any(s < e2 and s2 < e for s, e in used for s2, e2 in low):
            c.other["ocr_low_confidence"] = True


def process_text(doc: str, raw_text: str, rules: Rules, fmt: str = "txt", data: bytes | None = None,
                 extra: dict | None = None) -> DocResult:
    """The stages after ingest, for a text already decoded (also the API for strings)."""
    script = detect_script(raw_text)
    text = normalize(raw_text)
    meta = extract_meta(text, script)
    layout = segment(text, rules.extra["segment"])
    facts = extract(doc, text, layout, rules)
    links = link(text, layout, facts, rules)
    checks = check(doc, text, layout, links, facts, meta.get("period_end"))
    records = build_records(doc, {**meta, "city": meta.get("county") or meta.get("city")}, text, layout,
                            facts, checks, totals={id(g.total) for g in links.sums},
                            conf=rules.extra.get("records"))
    # the city is the place the report speaks for: a county's report gives the county
    # (GOLD.md), with the prefecture it belongs to beside it
    place = {"city": meta.get("county") or meta.get("city"), "prefecture": meta.get("city")}
    row = _document_row(doc, data if data is not None else raw_text.encode("utf-8"), rules,
                        format=fmt, script=script, **place,
                        **{k: meta.get(k) for k in ("province", "year", "period_end", "county")})
    row.update(extra or {})
    row.update({"facts": len(facts), "checks": len(checks),
                "inconsistent": sum(c.verdict == "inconsistent" for c in checks)})
    return DocResult(document=row, text=text, facts=facts, checks=checks, records=records,
                     sections=layout.sections)
