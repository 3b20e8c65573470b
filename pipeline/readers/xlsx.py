"""Excel attachments (目标责任分解表): each sheet a heading line and a table of tab rows.
.xlsx through openpyxl (read-only), .xls through xlrd; numbers written as they display."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from pipeline.types import RawDoc, ReadError

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read(data: bytes, name: str = "") -> RawDoc:
    if data[:8] == _OLE2:
        sheets, fmt = _read_xls(data), "xls"
    else:
        from pipeline.readers.docx import check_zip
        check_zip(data, ".xlsx")
        sheets, fmt = _read_xlsx(data), "xlsx"
    out: list[str] = []
    for title, rows in sheets:
        rows = _trim(rows)
        if not rows:
            continue
        out += [title, ""] if len(sheets) > 1 or title else []
        out.extend("\t".join(c.replace("\t", " ").replace("\n", "") for c in r) for r in rows)
        out.append("")
    if not out:
        raise ReadError(f"{fmt} workbook has no cells with content")
    return RawDoc(text="\n".join(out).strip("\n") + "\n", format=fmt)


def _trim(rows: list[list[str]]) -> list[list[str]]:
    """Drop empty rows and columns."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    rows = [r + [""] * (width - len(r)) for r in rows]
    keep = [j for j in range(width) if any(r[j].strip() for r in rows)]
    return [[r[j] for j in keep] for r in rows]


def _read_xlsx(data: bytes) -> list[tuple[str, list[list[str]]]]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (KeyError, ValueError, OSError) as e:
        raise ReadError(f"not a readable .xlsx ({type(e).__name__}): re-save it in Excel") \
            from None
    try:
        return [(ws.title, [[_show(c.value, getattr(c, "number_format", "General"))
                             for c in row] for row in ws.iter_rows()])
                for ws in wb.worksheets]
    finally:
        wb.close()


def _read_xls(data: bytes) -> list[tuple[str, list[list[str]]]]:
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, formatting_info=False)
    except xlrd.XLRDError as e:
        raise ReadError(f"not a readable .xls ({e}): re-save it as .xlsx") from None
    sheets = []
    for sh in book.sheets():
        rows = []
        for i in range(sh.nrows):
            row = []
            for cell in sh.row(i):
                v = cell.value
                if cell.ctype == xlrd.XL_CELL_DATE:
                    v = xlrd.xldate.xldate_as_datetime(v, book.datemode)
                elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_EMPTY):
                    v = None
                row.append(_show(v, "General"))
            rows.append(row)
        sheets.append((sh.name, rows))
    return sheets


def _show(v, number_format: str) -> str:
    """A cell as Excel shows it, as far as the number format matters for figures:
    percentages as 82.3%, fixed decimals kept, no float noise (0.1+0.2), no '.0'."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, (int, float)):
        fmt = number_format or "General"
        decimals = _decimals(fmt)
        if "%" in fmt:
            d = Decimal(repr(v)) * 100
            return f"{d:.{decimals}f}%" if decimals is not None else f"{_plain(d)}%"
        if decimals is not None:
            s = f"{Decimal(repr(v)):,.{decimals}f}" if "," in fmt else \
                f"{Decimal(repr(v)):.{decimals}f}"
            return s
        return _plain(Decimal(repr(v)))
    return str(v).strip()


def _decimals(fmt: str) -> int | None:
    """Decimals of a number format like 0.00 / #,##0.0 / 0.0%; None for General."""
    if fmt == "General" or not any(ch in fmt for ch in "0#"):
        return None
    first = fmt.split(";")[0]
    if "." in first:
        frac = first.split(".", 1)[1]
        return sum(1 for ch in frac if ch in "0#")
    return 0


def _plain(d: Decimal) -> str:
    s = format(d.normalize(), "f") if d == d.to_integral() else format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    # float noise (0.30000000000000004): 15 significant digits like Excel
    if len(s.replace("-", "").replace(".", "")) > 15:
        s = format(Decimal(f"{float(d):.15g}"), "f")
    return s
