"""Serialization only: per-document entries -> OUT/*.jsonl, OUT/*.csv, OUT/texts/.

A run turns each DocResult into an *entry* (plain JSON-ready dicts, rows already in
their final key order and sort order) as soon as it arrives; the entry is cached on
disk, so memory stays flat in the corpus size. At the end `OutputWriter` concatenates
the entries in doc-id order into files under OUT/.tmp-*/ and renames each into place
(`commit`), so an interrupted run never leaves a half-written final file.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Iterator

from pipeline.types import DocResult

TABLES = ("documents", "facts", "checks", "records")

# The contract's keys first, in the contract's order; extras follow (see _columns).
DOCUMENT_KEYS = ("doc", "status", "error", "format", "script", "city", "province", "year",
                 "period_end", "sha256", "rules_hash")
FACT_KEYS = ("doc", "kind", "value", "unit", "approx", "text", "start", "end", "project",
             "level")
CHECK_KEYS = ("doc", "kind", "verdict", "reported", "computed", "numerator", "denominator",
              "parts", "evidence", "start", "end")
RECORD_KEYS = ("doc", "city", "province", "year", "period_end", "project", "sub_item",
               "category", "indicator", "unit", "target", "actual", "reported_pct",
               "computed_pct", "verdict", "amount_yuan", "lead_unit", "evidence", "start",
               "end")
PREFERRED = {"documents": DOCUMENT_KEYS, "facts": FACT_KEYS, "checks": CHECK_KEYS,
             "records": RECORD_KEYS}


def jsonable(x: Any) -> Any:
    """Decimal -> int when integral, else float; tuples -> lists; recursively."""
    if isinstance(x, Decimal):
        if not x.is_finite():
            return None          # NaN/Infinity are not JSON; a check never needs them
        if x == x.to_integral_value():
            return int(x)
        return float(x)
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        return None
    return x


def dumps(row: dict[str, Any]) -> str:
    """One JSONL line (no newline): UTF-8 text, keys in the row's own (fixed) order."""
    return json.dumps(row, ensure_ascii=False, separators=(", ", ": "), allow_nan=False)


def document_row(doc: str, row: dict[str, Any] | None, *, sha256: str | None,
                 rules_hash: str | None) -> dict[str, Any]:
    """The documents.jsonl row: contract keys always present and first, then extras."""
    row = dict(row or {})
    out: dict[str, Any] = {}
    for k in DOCUMENT_KEYS:
        out[k] = row.pop(k, None)
    out["doc"], out["sha256"], out["rules_hash"] = doc, sha256, rules_hash
    out.pop("seconds", None)  # timing lives in run.json only: outputs must be reproducible
    row.pop("seconds", None)
    if out["error"] is not None:
        out["error"] = one_line(str(out["error"]))
    out.update(row)
    return jsonable(out)


def one_line(msg: str, limit: int = 300) -> str:
    """A reason on one line, short enough to read in a table cell."""
    msg = " ".join(msg.split())
    return msg if len(msg) <= limit else msg[: limit - 1] + "…"


def entry_from_result(doc: str, result: DocResult, *, sha256: str | None,
                      rules_hash: str | None) -> dict[str, Any]:
    """A DocResult as JSON-ready rows in their final order (facts by start, checks by
    (start, kind); stable sorts keep process()'s order on ties)."""
    document = document_row(doc, result.document, sha256=sha256, rules_hash=rules_hash)
    facts = [jsonable(_with_doc(f.contract(), doc)) for f in result.facts]
    facts.sort(key=lambda r: (_int(r.get("start")),))
    checks = [jsonable(_with_doc(c.contract(), doc)) for c in result.checks]
    checks.sort(key=lambda r: (_int(r.get("start")), str(r.get("kind"))))
    records = [jsonable(_with_doc(dict(r), doc)) for r in result.records]
    return {"doc": doc, "document": document, "facts": facts, "checks": checks,
            "records": records, "text": result.text if document["status"] == "ok" else None}


def failed_entry(doc: str, error: str, *, fmt: str | None, sha256: str | None,
                 rules_hash: str | None) -> dict[str, Any]:
    """The entry of a file that never reached a result (refused, timed out, crashed)."""
    row = {"status": "failed", "error": error, "format": fmt}
    return {"doc": doc, "document": document_row(doc, row, sha256=sha256, rules_hash=rules_hash),
            "facts": [], "checks": [], "records": [], "text": None}


def _with_doc(d: dict[str, Any], doc: str) -> dict[str, Any]:
    d["doc"] = doc   # the run's doc id is the one truth, whatever the stage wrote
    return d


def _int(x: Any) -> int:
    return x if isinstance(x, int) else -1


def text_path(texts: Path, doc: str) -> Path:
    """texts/<doc>.txt; doc may hold '/', and never escapes texts/."""
    parts = [p if p not in ("", ".", "..") else "_" for p in doc.split("/")]
    parts[-1] += ".txt"
    return texts.joinpath(*parts)


def csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write a whole file, or leave the old one: temp file in the same folder, fsync, rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C while the final renames run, so OUT never mixes two runs' files."""
    caught: list[Any] = []
    try:
        old = signal.signal(signal.SIGINT, lambda *a: caught.append(a))
    except ValueError:       # not the main thread: signals cannot arrive here anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if caught:
            raise KeyboardInterrupt


class OutputWriter:
    """Streams entries, in the order given, into OUT/.tmp-*/; `commit` moves them into OUT."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.out))
        self.texts = self.tmp / "texts"
        self.texts.mkdir()
        self._files = {t: open(self.tmp / f"{t}.jsonl", "w", encoding="utf-8", newline="\n")
                       for t in TABLES}
        self._keys: dict[str, dict[str, None]] = {t: {} for t in TABLES}  # ordered sets
        self.counts = {t: 0 for t in TABLES}

    def add(self, entry: dict[str, Any]) -> None:
        """Append one document's rows and text (callers pass entries sorted by doc id)."""
        self._rows("documents", [entry["document"]])
        self._rows("facts", entry["facts"])
        self._rows("checks", entry["checks"])
        self._rows("records", entry["records"])
        if entry.get("text") is not None:
            p = text_path(self.texts, entry["doc"])
            p.parent.mkdir(parents=True, exist_ok=True)
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(entry["text"])

    def add_checks(self, checks: Iterable[dict[str, Any]]) -> None:
        """Checks that span documents (crossdoc), appended after the per-document ones."""
        rows = [jsonable(c) for c in checks]
        rows.sort(key=lambda r: (str(r.get("doc")), _int(r.get("start")), str(r.get("kind"))))
        self._rows("checks", rows)

    def _rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        f, keys = self._files[table], self._keys[table]
        for r in rows:
            f.write(dumps(r))
            f.write("\n")
            for k in r:
                if k not in keys:
                    keys[k] = None
        self.counts[table] += len(rows)

    def read_records(self) -> list[dict[str, Any]]:
        """records.jsonl as written so far (for cross-document checks)."""
        self._files["records"].flush()
        with open(self.tmp / "records.jsonl", encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def _columns(self, table: str) -> list[str]:
        """Known columns in their documented order, then extras sorted (so stable)."""
        pref, seen = PREFERRED[table], self._keys[table]
        if not seen:          # an empty table still gets its header
            return list(pref)
        return [k for k in pref if k in seen] + sorted(k for k in seen if k not in pref)

    def _write_csv(self, table: str) -> None:
        cols = self._columns(table)
        src, dst = self.tmp / f"{table}.jsonl", self.tmp / f"{table}.csv"
        # utf-8-sig: the BOM makes Excel on a Chinese Windows machine read UTF-8, not GBK
        with open(src, encoding="utf-8") as fin, \
                open(dst, "w", encoding="utf-8-sig", newline="") as fout:
            w = csv.writer(fout, lineterminator="\r\n")
            w.writerow(cols)
            for line in fin:
                r = json.loads(line)
                w.writerow([csv_cell(r.get(c)) for c in cols])

    def commit(self) -> None:
        """Finish the CSVs, fsync everything, then rename each file into OUT."""
        for f in self._files.values():
            f.flush()
            os.fsync(f.fileno())
            f.close()
        for t in TABLES:
            self._write_csv(t)
        names = [f"{t}.jsonl" for t in TABLES] + [f"{t}.csv" for t in TABLES]
        for n in names:
            _fsync_file(self.tmp / n)
        with _sigint_deferred():
            for n in names:
                os.replace(self.tmp / n, self.out / n)
            # texts/ is a folder: swap it whole so no stale text of a vanished file stays
            old = self.out / "texts"
            trash = None
            if old.exists():
                trash = self.tmp / "texts.old"
                os.replace(old, trash)
            os.replace(self.texts, old)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def abort(self) -> None:
        """Drop everything this writer made; OUT keeps the previous run's files."""
        for f in self._files.values():
            if not f.closed:
                f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
