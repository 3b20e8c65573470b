"""Serialization only: per-document entries -> OUT/*.jsonl, OUT/*.csv, OUT/texts/.

A worker turns each DocResult into an *entry* (JSON-ready rows in their final key and
sort order) and *renders* it: the entry's JSONL and CSV lines as text, which the run
caches on disk, so memory stays flat in the corpus size and the serial end of a run only
concatenates text. `OutputWriter` appends rendered entries in doc-id order to files in a
stage folder OUT/.tmp-*/, where the post-run steps then add theirs, and
`commit_generation` swaps the whole stage in, so an interrupted run leaves OUT holding
one generation: the previous run's outputs or this run's, never a mix.

CSV columns are fixed per table (the documented ones, then `extra`: any other keys as a
JSON object), so each document's CSV lines can be rendered on their own.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import orjson

from pipeline.types import DocResult

TABLES = ("documents", "facts", "checks", "records")

# The contract's keys first, in the contract's order; extras follow.
DOCUMENT_KEYS = ("doc", "status", "error", "format", "script", "city", "province", "year",
                 "period_end", "sha256", "rules_hash")
FACT_KEYS = ("doc", "kind", "value", "unit", "approx", "text", "start", "end", "project",
             "level")
CHECK_KEYS = ("doc", "kind", "verdict", "reported", "computed", "numerator", "denominator",
              "parts", "evidence", "start", "end")
RECORD_KEYS = ("doc", "city", "province", "year", "period_end", "project", "sub_item", "place",
               "category", "indicator", "unit", "target", "actual", "reported_pct",
               "computed_pct", "verdict", "amount_yuan", "lead_unit", "evidence", "start",
               "end")
# CSV columns: the keys above, the usual extras, then `extra` (JSON of anything else).
CSV_COLUMNS = {
    "documents": DOCUMENT_KEYS + ("county", "pages", "encoding", "warnings", "facts", "checks",
                                  "inconsistent"),
    "facts": FACT_KEYS + ("percent_kind", "sub_item", "place", "direction", "rule"),
    "checks": CHECK_KEYS + ("project", "rule", "reason", "discrepancy", "figures"),
    "records": RECORD_KEYS,
}
EXTRA = "extra"


_PLAIN = frozenset((str, int, bool, type(None)))


def jsonable(x: Any) -> Any:
    """Decimal -> int when integral, else float; tuples -> lists; recursively.
    (type() tests, not isinstance: this runs on every field of every row.)"""
    t = type(x)
    if t in _PLAIN:
        return x
    if t is Decimal or isinstance(x, Decimal):
        if not x.is_finite():
            return None          # NaN/Infinity are not JSON; a check never needs them
        i = int(x)
        return i if x == i else float(x)
    if t is dict:
        return {k if type(k) is str else str(k): v if type(v) in _PLAIN else jsonable(v)
                for k, v in x.items()}
    if t is list or t is tuple:
        return [v if type(v) in _PLAIN else jsonable(v) for v in x]
    if t is float:
        return x if x == x and x not in (float("inf"), float("-inf")) else None
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    return x


def dumps(row: Any) -> str:
    """One JSONL line (no newline): UTF-8 text, keys in the row's own (fixed) order.
    orjson: the serialization was a third of a document's time with the json module."""
    return orjson.dumps(row).decode("utf-8")


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
    if v is True or v is False:
        return "true" if v else "false"
    if type(v) in (list, dict):
        return dumps(v)
    return v


def csv_lines(table: str, rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text in the table's fixed columns (no header)."""
    if not rows:
        return ""
    cols = CSV_COLUMNS[table]
    known = set(cols)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    for r in rows:
        extra = {k: v for k, v in r.items() if k not in known}
        w.writerow([csv_cell(r.get(c)) for c in cols] + [csv_cell(extra) if extra else ""])
    return buf.getvalue()


def jsonl_lines(rows: list[dict[str, Any]]) -> str:
    return "".join(dumps(r) + "\n" for r in rows)


def render(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the text it adds to each output file, plus what the summary counts."""
    tables = {"documents": [entry["document"]], "facts": entry["facts"],
              "checks": entry["checks"], "records": entry["records"]}
    d = entry["document"]
    return {
        "doc": entry["doc"], "status": d.get("status"), "error": d.get("error"),
        "pages": d.get("pages"),
        "counts": {"facts": len(entry["facts"]), "checks": len(entry["checks"]),
                   "inconsistent": sum(1 for c in entry["checks"]
                                       if c.get("verdict") == "inconsistent")},
        "jsonl": {t: jsonl_lines(rows) for t, rows in tables.items()},
        "csv": {t: csv_lines(t, rows) for t, rows in tables.items()},
        "text": entry.get("text"),
    }


def atomic_write_text(path: Path, text: str, *, durable: bool = True) -> None:
    """Write a whole file, or leave the old one: temp file in the same folder, rename.
    durable: fsync first (outputs); a cache entry skips it (a lost one is redone)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{os.getpid()}-{path.name}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        if not durable:
            # ext4 flushes data when a rename replaces a file (auto_da_alloc): for a cache
            # entry that costs ~1 ms per file, and durability is not needed
            path.unlink(missing_ok=True)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


# Signals that end a run: held while a generation is swapped in (see commit_generation).
_HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def signals_handled(signals: tuple[signal.Signals, ...], handler: Callable[[int, Any], None]) -> Iterator[None]:
    """Run the block with handler on these signals, the old handlers back afterwards; off the
    main thread (where signals cannot be set, nor arrive) the block runs as it is."""
    try:
        old = {s: signal.signal(s, handler) for s in signals}
    except ValueError:
        yield
        return
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C, kill (SIGTERM) and hang-up while the renames of a commit run, so OUT
    never mixes two runs' files; a signal that arrived is acted on afterwards."""
    caught: list[int] = []
    try:
        with signals_handled(_HELD_SIGNALS, lambda n, f: caught.append(n)):
            yield
    finally:
        if caught:      # now with the handler the signal would have met
            signal.raise_signal(caught[0])


# tables whose per-document byte ranges the writer remembers (see OutputWriter.read_docs)
SPANNED = ("records", "facts")


class CheckSpool:
    """Rendered check rows in a file; in memory only (doc, start, kind, seq, offset,
    lengths) per row, and the counts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: list[tuple[str, int, str, int, int, int, int]] = []
        self.inconsistent = 0

    def __len__(self) -> int:
        return len(self.keys)


def sized_jsonl(path: Path) -> Iterator[tuple[dict[str, Any], int]]:
    """(row, bytes of its line) of a JSON Lines file, one at a time; a missing file is an
    empty table. The one reader of OUT's tables (export, report, crossdoc)."""
    if not path.exists():
        return
    with path.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                try:
                    yield orjson.loads(line), len(line)
                except orjson.JSONDecodeError as e:
                    raise ValueError(f"{path}:{n} is not valid JSON ({e}); re-run minsheng to "
                                     "rewrite it") from e


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Rows of a JSON Lines file, one at a time."""
    return (r for r, _ in sized_jsonl(path))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSON Lines file; a missing file is an empty table."""
    return list(iter_jsonl(path))


STAGE_PREFIX = ".tmp-"      # a stage folder inside OUT, where a generation is built


def run_folder(folder: Path) -> Path:
    """The run folder OUT a folder stands for: OUT itself, or the OUT a stage was made in
    (post-run steps see the stage, but what they write names the run)."""
    folder = Path(folder).resolve()
    return folder.parent if folder.name.startswith(STAGE_PREFIX) else folder


class OutputWriter:
    """Appends rendered entries, in the order given, to OUT/.tmp-*/; `commit` moves the
    files into OUT."""

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=self.out))
        self.texts = self.tmp / "texts"
        self.texts.mkdir()
        # binary: a document's rows are then a byte range we know without tell()
        self._jsonl = {t: open(self.tmp / f"{t}.jsonl", "wb") for t in TABLES}
        self._pos = dict.fromkeys(TABLES, 0)
        # doc -> table -> [(offset, length)] of its rows in records/facts.jsonl, so the
        # cross-document step reads back only the documents it compares (read_docs)
        self._spans: dict[str, dict[str, list[tuple[int, int]]]] = {}
        # utf-8-sig: the BOM makes Excel on a Chinese Windows machine read UTF-8, not GBK
        self._csv = {t: open(self.tmp / f"{t}.csv", "w", encoding="utf-8-sig", newline="")
                     for t in TABLES}
        for t, f in self._csv.items():
            csv.writer(f, lineterminator="\r\n").writerow(CSV_COLUMNS[t] + (EXTRA,))

    def add(self, rendered: dict[str, Any]) -> None:
        """Append one document's rows and text (callers pass them sorted by doc id)."""
        for t in TABLES:
            data = rendered["jsonl"][t].encode("utf-8")
            if data and t in SPANNED:
                spans = self._spans.setdefault(rendered["doc"], {})
                spans.setdefault(t, []).append((self._pos[t], len(data)))
            self._jsonl[t].write(data)
            self._pos[t] += len(data)
            self._csv[t].write(rendered["csv"][t])
        if rendered.get("text") is not None:
            p = text_path(self.texts, rendered["doc"])
            if p.parent != self.texts:
                p.parent.mkdir(parents=True, exist_ok=True)
            with open(p, "w", encoding="utf-8", newline="") as f:
                f.write(rendered["text"])

    def add_checks(self, checks: Iterable[dict[str, Any]]) -> None:
        """Checks that span documents (crossdoc), appended after the per-document ones,
        sorted by (doc, start, kind)."""
        self.add_spooled(self.spool_checks(checks))

    def spool_checks(self, checks: Iterable[dict[str, Any]]) -> CheckSpool:
        """Render checks (a list or a generator) to a file beside the outputs, keeping
        only each row's sort key in memory. Nothing reaches checks.* yet, so when
        `checks` raises the outputs are as they were (the spool is removed)."""
        fd, name = tempfile.mkstemp(prefix="checks-", suffix=".spool", dir=self.tmp)
        spool = CheckSpool(Path(name))
        try:
            with open(fd, "wb") as f:
                pos = 0
                for seq, c in enumerate(checks):
                    r = jsonable(c)
                    j = (dumps(r) + "\n").encode("utf-8")
                    v = csv_lines("checks", [r]).encode("utf-8")
                    # seq: a stable sort, as sorting the whole list was
                    spool.keys.append((str(r.get("doc")), _int(r.get("start")),
                                       str(r.get("kind")), seq, pos, len(j), len(v)))
                    spool.inconsistent += r.get("verdict") == "inconsistent"
                    f.write(j)
                    f.write(v)
                    pos += len(j) + len(v)
        except BaseException:
            spool.path.unlink(missing_ok=True)
            raise
        return spool

    def add_spooled(self, spool: CheckSpool) -> None:
        """Append spooled checks to checks.jsonl/.csv in (doc, start, kind) order."""
        spool.keys.sort()
        try:
            with open(spool.path, "rb") as f:
                for *_, pos, nj, nv in spool.keys:
                    f.seek(pos)
                    data = f.read(nj + nv)
                    self._jsonl["checks"].write(data[:nj])
                    self._csv["checks"].write(data[nj:].decode("utf-8"))
        finally:
            spool.path.unlink(missing_ok=True)

    def documents(self) -> Iterator[dict[str, Any]]:
        """documents.jsonl as written so far, one row at a time."""
        self._jsonl["documents"].flush()
        with open(self.tmp / "documents.jsonl", "rb") as f:
            for line in f:
                yield orjson.loads(line)

    def read_doc_lines(self, table: str, docs: Iterable[str]) -> Iterator[bytes]:
        """The JSONL lines (bytes, no newline) of `table` (records or facts) of the given
        documents only, in the order given: each document's rows are read from where
        `add` wrote them, nothing else is touched."""
        if table not in SPANNED:
            raise ValueError(f"only {' and '.join(SPANNED)} are read by document, not {table}")
        self._jsonl[table].flush()
        with open(self.tmp / f"{table}.jsonl", "rb") as f:
            for doc in docs:
                for pos, n in self._spans.get(doc, {}).get(table, ()):
                    f.seek(pos)
                    yield from filter(None, f.read(n).split(b"\n"))

    def read_docs(self, table: str, docs: Iterable[str]) -> Iterator[dict[str, Any]]:
        """read_doc_lines as rows."""
        return map(orjson.loads, self.read_doc_lines(table, docs))

    def read_records(self) -> list[dict[str, Any]]:
        """records.jsonl as written so far (for cross-document checks)."""
        return self.read_rows("records")

    def read_rows(self, table: str, keep: Any = None) -> list[dict[str, Any]]:
        """A table's rows as written so far, those `keep(row)` accepts when given."""
        self._jsonl[table].flush()
        with open(self.tmp / f"{table}.jsonl", encoding="utf-8") as f:
            rows = (json.loads(line) for line in f)
            return [r for r in rows if keep is None or keep(r)]

    def finish(self) -> None:
        """Close the tables (fsynced): the stage (self.tmp) then holds them whole, ready
        for the post-run steps and for commit_generation."""
        for f in (*self._jsonl.values(), *self._csv.values()):
            if not f.closed:
                f.flush()
                os.fsync(f.fileno())
                f.close()

    def commit(self, info: dict[str, Any] | None = None) -> None:
        """finish(), then swap the stage into OUT as one generation (commit_generation)."""
        self.finish()
        commit_generation(self.out, self.tmp, info or {})

    def abort(self) -> None:
        """Drop everything this writer made; OUT keeps the previous run's files."""
        for f in (*self._jsonl.values(), *self._csv.values()):
            if not f.closed:
                f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# ----------------------------------------------------------------------------- generations
#
# A run builds every output (tables, texts/, run.json, report.html, workbook, Parquet) in
# a stage folder OUT/.tmp-*/ and swaps them in together: the names to move are first
# written to OUT/.commit (fsynced), then moved, then OUT/.generation (which names the
# generation and lists its outputs) goes in last and .commit is removed. Ctrl-C and kill
# are held during the moves; after a crash or SIGKILL between them, recover() (called by
# every run and by `compare` before reading OUT) finishes the moves from .commit. Readers
# therefore see one generation, never half of two.

GENERATION = ".generation"
JOURNAL = ".commit"
# What older versions wrote without a .generation manifest: replaced or removed on commit,
# so a --no-report run does not leave a previous run's report beside its tables.
KNOWN_OUTPUTS = tuple(f"{t}.{e}" for t in TABLES for e in ("jsonl", "csv")) + (
    "texts", "run.json", "report.html", "minsheng.xlsx", "parquet")


def read_generation(out: Path) -> dict[str, Any] | None:
    """OUT's manifest ({"generation", "documents", "finished", "outputs"}), or None when OUT
    holds no generation written by this version."""
    try:
        g = json.loads((Path(out) / GENERATION).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return g if isinstance(g, dict) else None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def commit_generation(out: Path, stage: Path, info: dict[str, Any]) -> dict[str, Any]:
    """Make everything in `stage` (a folder inside OUT) OUT's outputs, in one step as seen
    by a reader: each visible name replaces its namesake, a name of the previous generation
    that this one lacks is removed. `info` (generation id, documents, finished) goes into
    the manifest, which is returned."""
    out, stage = Path(out), Path(stage)
    if stage.parent.resolve() != out.resolve():
        raise ValueError(f"the stage {stage} must be inside {out} (one file system)")
    names = sorted(n for n in os.listdir(stage) if not n.startswith("."))
    prev = read_generation(out)
    before = prev.get("outputs", []) if prev else KNOWN_OUTPUTS
    manifest = {**info, "outputs": names}
    atomic_write_text(stage / GENERATION, json.dumps(manifest, ensure_ascii=False, indent=1))
    journal = {"stage": stage.name, "names": names + [GENERATION],
               "remove": sorted(set(before) - set(names) - {GENERATION})}
    with _signals_deferred():
        atomic_write_text(out / JOURNAL, json.dumps(journal, ensure_ascii=False))
        _fsync_dir(out)
        _apply_journal(out, journal)
    return manifest


def _apply_journal(out: Path, journal: dict[str, Any]) -> None:
    """Do (or finish) the moves a journal lists. Idempotent: a name already moved is no
    longer in the stage, so running it again after a crash completes the same commit."""
    stage = out / journal["stage"]
    trash = out / f".tmp-old-{journal['stage']}"      # cleaned like any stale .tmp-*
    for n in journal["names"]:
        src, dst = stage / n, out / n
        if not os.path.lexists(src):
            continue                                   # moved before a crash
        # a folder (texts/, parquet/) cannot be renamed over: move the old one aside
        if os.path.lexists(dst) and (dst.is_dir() and not dst.is_symlink() or src.is_dir()):
            trash.mkdir(exist_ok=True)
            os.replace(dst, trash / f"{n}.{len(os.listdir(trash))}")
        os.replace(src, dst)
    for n in journal.get("remove", ()):
        dst = out / n
        if os.path.lexists(dst):
            trash.mkdir(exist_ok=True)
            os.replace(dst, trash / f"{n}.{len(os.listdir(trash))}")
    _fsync_dir(out)
    (out / JOURNAL).unlink(missing_ok=True)
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(stage, ignore_errors=True)


def recover(out: Path) -> str | None:
    """Finish a commit that a crash interrupted (OUT/.commit left behind). Returns what was
    done, in words, or None when there was nothing to do. The caller holds OUT's lock."""
    out = Path(out)
    try:
        journal = json.loads((out / JOURNAL).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise OSError(f"{out / JOURNAL} is unreadable ({e}): the outputs in {out} may mix "
                      "two runs; run again with --force") from None
    if not (out / journal["stage"]).is_dir():
        # the stage is gone: nothing left to move; .generation says what is there
        (out / JOURNAL).unlink(missing_ok=True)
        return "removed a stale commit record"
    with _signals_deferred():
        _apply_journal(out, journal)
    g = read_generation(out) or {}
    return f"finished swapping in generation {g.get('generation', '?')}, which a crash interrupted"
