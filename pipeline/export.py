"""A finished run folder OUT -> OUT/minsheng.xlsx and OUT/parquet/<table>.parquet.

Reads only the JSON Lines files the run wrote (the contract), so it can be re-run
on any OUT folder. The workbook is for people (frozen header, filters, widths that
fit Chinese text, numbers as numbers); Parquet is for programs (typed columns,
`parts` as list<double>).
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pipeline.write import iter_jsonl as _rows, read_jsonl, sized_jsonl as _sized_rows

TABLES = ("documents", "records", "facts", "checks")

# The contract's columns first, in its order; extra keys follow in order of appearance.
PREFERRED: dict[str, tuple[str, ...]] = {
    "documents": ("doc", "status", "error", "format", "script", "city", "province", "year",
                  "period_end"),
    "records": ("doc", "city", "province", "year", "period_end", "project", "sub_item",
                "category", "indicator", "unit", "target", "actual", "reported_pct",
                "computed_pct", "verdict", "amount_yuan", "lead_unit", "evidence", "start", "end"),
    "facts": ("doc", "kind", "value", "unit", "approx", "text", "start", "end", "project", "level"),
    "checks": ("doc", "kind", "verdict", "reported", "computed", "numerator", "denominator",
               "parts", "evidence", "start", "end"),
}
INT_COLUMNS = frozenset({"year", "start", "end", "start_b", "end_b", "section", "each", "pages"})
FLOAT_COLUMNS = frozenset({"value", "reported", "computed", "numerator", "denominator",
                           "discrepancy", "target", "actual", "reported_pct", "computed_pct",
                           "amount_yuan", "target_b", "expected_pct", "elapsed_pct", "rate",
                           "similarity"})
FLOAT_LIST_COLUMNS = frozenset({"parts"})
SPAN_LIST_COLUMNS = frozenset({"figures", "figures_b"})   # [[start, end], ...]
BOOL_COLUMNS = frozenset({"approx", "per_unit"})

XLSX_MAX_CELL = 32767
_NUM_STR = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?")


def load_run(out: Path) -> dict[str, list[dict[str, Any]]]:
    """The four tables of a run folder. documents.jsonl must exist: without it this is
    not a finished run."""
    out = Path(out)
    if not (out / "documents.jsonl").exists():
        raise FileNotFoundError(
            f"{out} has no documents.jsonl: point at the folder a finished `minsheng run -o OUT` wrote")
    return {t: read_jsonl(out / f"{t}.jsonl") for t in TABLES}


def columns(rows: Iterable[dict[str, Any]], table: str) -> list[str]:
    cols = list(PREFERRED.get(table, ()))
    seen = set(cols)
    for r in rows:
        for k in r:
            if k not in seen:
                seen.add(k)
                cols.append(k)
    return cols


def _number(x: Any) -> Any:
    """A numeric-looking string in a numeric column becomes a number (a writer that kept
    Decimal precision as text must not give Excel text cells)."""
    if isinstance(x, str) and _NUM_STR.fullmatch(x.strip()):
        f = float(x)
        return int(f) if f.is_integer() and "." not in x and "e" not in x.lower() else f
    return x


def display_width(s: str) -> int:
    """Width in Excel 'characters': a CJK (wide) character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cell(col: str, x: Any) -> Any:
    if x is None:
        return None
    t = type(x)
    if t is int or t is float:          # the common cases first: a cell per value of a run
        return x if t is int or math.isfinite(x) else None
    if t is str and col not in INT_COLUMNS and col not in FLOAT_COLUMNS and len(x) <= XLSX_MAX_CELL \
            and not ILLEGAL_CHARACTERS_RE.search(x):
        return x
    if col in INT_COLUMNS or col in FLOAT_COLUMNS:
        x = _number(x)
    if isinstance(x, bool) or isinstance(x, (int, float)):
        if isinstance(x, float) and not math.isfinite(x):
            return None
        return x
    if isinstance(x, list):
        if any(isinstance(v, dict) for v in x):           # a cross-document finding's values
            s = json.dumps(x, ensure_ascii=False)
        elif all(isinstance(v, list) for v in x):         # spans [[s, e], ...]
            s = "; ".join("-".join(str(p) for p in v) for v in x)
        else:
            s = ", ".join("" if v is None else str(v) for v in x)
    elif isinstance(x, dict):
        s = json.dumps(x, ensure_ascii=False)
    else:
        s = str(x)
    s = ILLEGAL_CHARACTERS_RE.sub("", s)
    return s if len(s) <= XLSX_MAX_CELL else s[:XLSX_MAX_CELL - 1] + "…"


XLSX_MAX_ROWS = 1_048_576           # Excel's rows per sheet, the header included
WIDTH_SAMPLE = 2000                 # rows whose widths set the columns'


class OutputNote(UserWarning):
    """An output left out on purpose (the run prints it as a warning, not a failure)."""


@dataclass
class _Scan:
    """One pass over a table: its columns, rows, the widths of a sample, and each
    column's Arrow type (the types every value fits, as to_arrow would choose)."""
    cols: list[str]
    n: int = 0
    widths: dict[str, int] = field(default_factory=dict)
    types: dict[str, pa.DataType] = field(default_factory=dict)


def scan(path: Path, table: str) -> _Scan:
    sc = _Scan(list(PREFERRED.get(table, ())))
    seen = set(sc.cols)
    kinds: dict[str, set[str]] = defaultdict(set)     # col -> {'bool','int','float','other'}
    bad: set[str] = set()                             # declared type does not fit a value
    # per column, the Python types seen: a value is tried against its column's declared
    # type once per (column, type), not once per row (a run has millions of values); a
    # string or a list each time (one may not fit where an earlier one did), but only in
    # a column that declares a type
    tried: set[tuple[str, type]] = set()
    declared_of = {c: _declared_type(c) for c in sc.cols}
    kind_of = {bool: "bool", int: "int", float: "float"}
    for r in _rows(path):
        for k, v in r.items():
            if k not in seen:
                seen.add(k)
                sc.cols.append(k)
                declared_of[k] = _declared_type(k)
            if v is None:
                continue
            t = type(v)
            if (k, t) not in tried:
                tried.add((k, t))
                kinds[k].add(kind_of.get(t, "other"))
                check = True
            else:
                check = t is str or t is list
            if check and k not in bad and declared_of[k] is not None:
                try:
                    _arrow_value(declared_of[k], v)
                except (TypeError, ValueError, ArithmeticError):
                    bad.add(k)
            if sc.n < WIDTH_SAMPLE:
                c = _cell(k, v)
                if c is not None:
                    sc.widths[k] = max(sc.widths.get(k, 0),
                                       display_width(c if isinstance(c, str) else str(c)))
        sc.n += 1
    for c in sc.cols:
        declared = _declared_type(c)
        k = kinds.get(c, set())
        if c in bad:
            sc.types[c] = pa.string()
        elif declared is not None:
            sc.types[c] = declared
        elif k == {"bool"}:
            sc.types[c] = pa.bool_()
        elif k == {"int"}:
            sc.types[c] = pa.int64()
        elif k and k <= {"int", "float"}:
            sc.types[c] = pa.float64()
        else:
            sc.types[c] = pa.string()
    return sc


def _sheet_rows(path: Path, cols: list[str]) -> Iterator[dict[str, Any]]:
    blank = dict.fromkeys(cols)       # every column in order, a row's absent ones empty
    for r in _rows(path):
        row = blank.copy()
        for k, v in r.items():
            row[k] = _cell(k, v)
        yield row


def write_xlsx_streamed(out: Path, scans: dict[str, _Scan], path: Path) -> str | None:
    """The workbook, each sheet streamed from its JSON Lines file (rust_xlsxwriter's
    constant-memory mode: memory does not grow with the run). Past Excel's row limit no
    workbook is written (a stale one is removed) and the reason is returned."""
    from rustpy_xlsxwriter import FastExcel

    over = [(t, sc.n) for t, sc in scans.items() if sc.n + 1 > XLSX_MAX_ROWS]
    if over:
        path.unlink(missing_ok=True)
        what = ", ".join(f"{t} has {n:,} rows" for t, n in over)
        return (f"minsheng.xlsx not written: {what}, over Excel's {XLSX_MAX_ROWS:,} rows a sheet; "
                "the same tables are in the CSV files and parquet/")
    tmp = path.with_name(path.name + ".tmp")
    book = FastExcel(tmp, output_format="xlsx").freeze(row=1)
    for name in TABLES:
        sc = scans[name]
        widths = [min(max(max(display_width(c), sc.widths.get(c, 0)) + 2, 6), 60) for c in sc.cols]
        # the header comes from the first row's keys: a sheet without rows gets it from an
        # empty frame
        rows: Any = _sheet_rows(out / f"{name}.jsonl", sc.cols) if sc.n else \
            pd.DataFrame(columns=sc.cols)
        book.sheet(name, rows, column_widths=widths, autofilter=True)
    book.save()
    tmp.replace(path)  # a reader never sees a half-written workbook
    return None


def _declared_type(col: str) -> pa.DataType | None:
    if col in FLOAT_LIST_COLUMNS:
        return pa.list_(pa.float64())
    if col in SPAN_LIST_COLUMNS:
        return pa.list_(pa.list_(pa.int64()))
    if col in BOOL_COLUMNS:
        return pa.bool_()
    if col in INT_COLUMNS:
        return pa.int64()
    if col in FLOAT_COLUMNS:
        return pa.float64()
    return None


def _arrow_type(col: str, values: list[Any]) -> pa.DataType:
    declared = _declared_type(col)
    if declared is not None:
        return declared
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def _arrow_value(typ: pa.DataType, x: Any) -> Any:
    if x is None:
        return None
    if pa.types.is_string(typ):
        return x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
    if pa.types.is_list(typ):
        if not isinstance(x, list):
            raise ValueError(f"expected a list, got {x!r}")
        if pa.types.is_list(typ.value_type):
            return [[int(p) for p in v] for v in x]
        return [None if v is None else float(_number(v)) for v in x]
    if pa.types.is_boolean(typ):
        return bool(x)
    x = _number(x)
    if pa.types.is_integer(typ):
        return int(x)
    return float(x)


def to_arrow(rows: list[dict[str, Any]], table: str) -> pa.Table:
    """A typed Arrow table of one OUT table (all columns, contract ones first)."""
    cols = columns(rows, table)
    arrays, fields = [], []
    for c in cols:
        vals = [r.get(c) for r in rows]
        typ = _arrow_type(c, vals)
        try:
            conv = [_arrow_value(typ, v) for v in vals]
        except (TypeError, ValueError, ArithmeticError):
            # a value that does not fit the column's usual type: keep the column, as text
            typ, conv = pa.string(), [_arrow_value(pa.string(), v) for v in vals]
        arrays.append(pa.array(conv, type=typ))
        fields.append(pa.field(c, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


PARQUET_BATCH = 5_000       # rows converted at a time: memory flat in the run's size
PARQUET_BATCH_BYTES = 2 << 20


def write_parquet_streamed(out: Path, scans: dict[str, _Scan], folder: Path) -> None:
    """parquet/<table>.parquet written batch by batch in the types `scan` chose."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        sc = scans[name]
        schema = pa.schema([pa.field(c, sc.types[c]) for c in sc.cols])
        path = folder / f"{name}.parquet"
        tmp = path.with_name(path.name + ".tmp")

        def column(c: str, rows: list[dict[str, Any]]) -> pa.Array:
            typ, vals = sc.types[c], [r.get(c) for r in rows]
            if not pa.types.is_string(typ) and not pa.types.is_boolean(typ):
                try:      # values already of the column's type: Arrow converts them in C
                    return pa.array(vals, type=typ)
                except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
                    pass  # a numeric string, a stray type: converted one by one below
            return pa.array([_arrow_value(typ, v) for v in vals], type=typ)

        def batch(rows: list[dict[str, Any]]) -> pa.Table:
            return pa.Table.from_arrays([column(c, rows) for c in sc.cols], schema=schema)
        with pq.ParquetWriter(tmp, schema) as w:
            rows: list[dict[str, Any]] = []
            size = 0
            for r, n in _sized_rows(out / f"{name}.jsonl"):
                rows.append(r)
                size += n
                # by bytes too: a cross-document finding over thousands of reports is one
                # large row, and a few hundred of them as Python objects are hundreds of MB
                if len(rows) == PARQUET_BATCH or size > PARQUET_BATCH_BYTES:
                    w.write_table(batch(rows))
                    rows, size = [], 0
            w.write_table(batch(rows))
        tmp.replace(path)


def _scans(out: Path) -> dict[str, _Scan]:
    out = Path(out)
    if not (out / "documents.jsonl").exists():
        raise FileNotFoundError(
            f"{out} has no documents.jsonl: point at the folder a finished `minsheng run -o OUT` wrote")
    return {t: scan(out / f"{t}.jsonl", t) for t in TABLES}


def write_workbook(out: Path) -> None:
    """OUT/minsheng.xlsx from the run's JSON Lines, read as streams. Past Excel's row
    limit the workbook is skipped with an OutputNote warning saying why."""
    note = write_xlsx_streamed(Path(out), _scans(out), Path(out) / "minsheng.xlsx")
    if note:
        warnings.warn(note, OutputNote, stacklevel=2)


def write_parquet(out: Path) -> None:
    """OUT/parquet/<table>.parquet from the run's JSON Lines, read as streams."""
    write_parquet_streamed(Path(out), _scans(out), Path(out) / "parquet")


def write_exports(out: Path) -> None:
    """The workbook and Parquet of a run folder, one after the other, on one scan of its
    tables (two passes each: columns and types, then rows): memory stays flat however
    large the run. (`minsheng run` runs write_workbook and write_parquet as separate
    post-run steps, side by side.)"""
    scans = _scans(out)
    note = write_xlsx_streamed(Path(out), scans, Path(out) / "minsheng.xlsx")
    write_parquet_streamed(Path(out), scans, Path(out) / "parquet")
    if note:
        warnings.warn(note, OutputNote, stacklevel=2)
