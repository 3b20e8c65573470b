"""The per-file work: one pure function of (file bytes, rules) -> DocResult.

Kept free of I/O and global state so a process pool, or an executor on Dask or
Ray, can run it unchanged.
"""
from __future__ import annotations

import hashlib

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
    return process_text(doc, raw.text, rules, fmt=raw.format, data=data,
                        extra={"encoding": raw.encoding, "pages": raw.pages,
                               "warnings": raw.warnings or None})


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
