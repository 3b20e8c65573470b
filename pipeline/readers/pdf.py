"""PDF: the fast path is pypdfium2 (text and geometry per page, ~25x faster than
pdfminer-based layout). Ruled tables are found with pdfplumber's table geometry
(merge_edges -> intersections -> cells -> tables; the cell step is a faster equivalent
of pdfplumber's) fed with the ruling lines that pypdfium2 reports as path objects, and
filled with pypdfium2's characters, so a table page costs little more than a text page.
Output follows the RawDoc conventions: wrapped lines joined into paragraphs, tables as
tab rows, headers/footers/page numbers dropped.

A page that uses a font the file does not embed (reportlab's STSong-Light, as in
bench/out/corpus/pdf and tools/render.py) is read with pdfminer instead: pdfium would lay
out the glyphs of whatever substitute font the machine has, and its text changes (chars
dropped) with and without fonts-noto-cjk; pdfminer's boxes come from the PDF's own widths.

Where the time goes: on PDFs whose fonts are embedded, pdfium loads a page and its text
in ~1.5-2 ms; the Python here is ~1-2.5 ms a page. A non-embedded-font page costs about
twice a pdfium one (pdfminer interprets its content stream in Python)."""
from __future__ import annotations

import ctypes
import re
from bisect import bisect_left
from collections import Counter
from dataclasses import dataclass, field

from pipeline.types import RawDoc, ReadError

CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_CJK_SPACE = re.compile(rf"(?<=[{CJK}])[ \u00a0]+(?=[{CJK}])")
_CJK_CHAR = re.compile(r"[\u3400-\u9fff]")
_NUM_SPACE = re.compile(r"(?<=[\d,.，])\s+(?=[\d,.，%])|(?<=\d)\s+(?=[,.])")
_END_PUNCT = tuple("。；：！？!?;:")
_LABEL = re.compile(r"^\s*([一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[）)]|"
                    r"\d{1,2}[.．、](?!\d)|[①-⑳]|第[一二三四五六七八九十\d]+[章节条部分])")
_PAGE_NO = re.compile(r"^\s*([-–—－~]\s*\d{1,4}\s*[-–—－~]|第\s*\d{1,4}\s*页(\s*[,，/]?\s*共\s*\d{1,4}\s*页)?|"
                      r"\d{1,4}\s*/\s*\d{1,4}|\d{1,4}|[-–—]?\s*[ivxlcIVXLC]{1,6}\s*[-–—]?|"
                      r"page\s*\d+(\s*of\s*\d+)?)\s*$", re.I)
_BAD_CHAR = re.compile(r"[\ufffd\x00-\x08\x0b\x0c\x0e-\x1f\ue000-\uf8ff]")   # no char map
_LINE_BREAK = re.compile(r"\r\n|\n|\r")
_BREAKS = re.compile(r"[\r\n]+")
_SPACES = re.compile(r" {2,}")
_BAND = 0.09          # top/bottom share of the page where headers and footers live
_MIN_PATHS = 3        # fewer path objects than this: no ruled table on the page


@dataclass
class Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass
class Table:
    top: float
    bottom: float
    rows: list[list[str]]
    open_top: bool = False        # its first row goes on from the previous page
    open_bottom: bool = False     # its last row goes on to the next page


class _Grid(list):
    """A ruled table's rows of cell boxes, and which of its ends had no rule (a row cut
    by a page break)."""
    open_top = False
    open_bottom = False


@dataclass
class Page:
    width: float
    height: float
    blocks: list = field(default_factory=list)   # Line | Table, in reading order


def read(data: bytes, name: str = "", max_pages: int = 2000, ocr: bool = True) -> RawDoc:
    """ocr: read pages with no text layer (or a garbage one) by OCR (readers/ocr.py);
    without it such a PDF is refused as before."""
    import pypdfium2 as pdfium

    from pipeline.readers import ocr as ocr_reader

    pdf = _open(data)
    widths = _PdfWidths(data)
    try:
        n = len(pdf)
        if n > max_pages:
            raise ReadError(f"PDF has {n} pages, more than the limit of {max_pages} "
                            "(--max-pages)")
        if n == 0:
            raise ReadError("PDF has no pages (damaged or truncated?)")
        pages, bad_chars, n_chars, scanned = [], 0, 0, []
        for i in range(n):
            try:
                page, bad, count = _read_page(pdf, i, widths)
                if ocr and ocr_reader.needs_ocr(pdf, i, bad, count):
                    page, bad, count = ocr_reader.pdf_page(pdf, i)
                    scanned.append(i + 1)
            except pdfium.PdfiumError as e:
                raise ReadError(f"PDF page {i + 1} cannot be read (damaged?): {e}") from None
            pages.append(page)
            bad_chars += bad
            n_chars += count
    finally:
        pdf.close()
        widths.close()
    if n_chars == 0 and scanned:
        raise ReadError("PDF is a scan and OCR found no text on it (blank, or a picture)")
    if n_chars == 0:
        raise ReadError("PDF has no text layer (a scan?) and OCR is off (--no-ocr): run "
                        "without --no-ocr, or get a text PDF or the .docx from the publisher")
    if bad_chars > 0.3 * n_chars:
        raise ReadError("PDF font has no character map ((cid:NN) glyphs) and OCR is off "
                        "(--no-ocr): run without --no-ocr to read it by OCR")
    warnings = []
    empty = [i + 1 for i, p in enumerate(pages) if not p.blocks]
    if empty and len(empty) < n:
        warnings.append(f"{len(empty)} page(s) without text (scanned?): "
                        f"{', '.join(map(str, empty[:10]))}")
    _drop_headers_footers(pages)
    return RawDoc(text=_assemble(pages), format="pdf", pages=n, warnings=warnings,
                  ocr=ocr_reader.summary(pages, scanned) if scanned else None)


def _open(data: bytes):
    """Open with pdfium; the empty user password is tried implicitly by pdfium."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as c

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code == c.FPDF_ERR_PASSWORD:
            raise ReadError("PDF is encrypted and needs a password: ask for an unprotected "
                            "copy") from None
        if code == c.FPDF_ERR_SECURITY:
            raise ReadError("PDF uses an unsupported security handler: ask for an "
                            "unprotected copy") from None
        raise ReadError("PDF is damaged or truncated and cannot be opened: "
                        "download it again") from None


def _read_page(pdf, index: int, widths: "_PdfWidths") -> tuple[Page, int, int]:
    """A page's lines and tables; returns (page, unreadable chars, all non-space chars).
    Chars come from pdfium, except on a page that uses a font the file does not embed:
    there pdfium lays out glyphs of whatever substitute the machine has (with no CJK font
    installed it even drops characters), so the chars and their boxes come from pdfminer,
    which takes them from the PDF's own widths: the same text on every machine."""
    page = pdf[index]
    textpage = None         # pdfium's text page, only where its text is used
    try:
        width, height = page.get_size()
        paths, unembedded = _paths(page)
        tables = _find_tables(paths, height) if len(paths) >= _MIN_PATHS else []
        text = None
        if unembedded:
            try:
                text, boxes = widths.page_chars(index, height)
                box = boxes.__getitem__
            except Exception:       # pdfminer cannot parse what pdfium could: pdfium's text
                text = None
        if text is None:
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            count = textpage.count_chars()
            if len(text) != count:          # characters outside the BMP: no 1:1 index map
                text = "".join(textpage.get_text_range(i, 1) or " " for i in range(count))
            box = _charbox(textpage, height)
        nonspace = sum(map(len, text.split()))      # str.split() splits where isspace()
        bad = len(_BAD_CHAR.findall(text))
        blocks = _page_blocks(box, text, tables)
    finally:
        if textpage is not None:
            textpage.close()
        page.close()
    return Page(width, height, blocks), bad, nonspace


class _PdfWidths:
    """The document as pdfminer reads it, opened on first use: char boxes from the fonts'
    declared widths and the text matrix, not from glyph outlines. pdfminer's own objects
    are read (not pdfplumber's dict per object, which doubled the cost)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pages: list | None = None

    def _open(self) -> None:
        import io

        from pdfminer.converter import PDFPageAggregator
        from pdfminer.pdfdocument import PDFDocument
        from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
        from pdfminer.pdfpage import PDFPage
        from pdfminer.pdfparser import PDFParser

        doc = PDFDocument(PDFParser(io.BytesIO(self.data)))
        self.pages = list(PDFPage.create_pages(doc))
        rsrc = PDFResourceManager(caching=True)
        self.device = PDFPageAggregator(rsrc, laparams=None)   # no layout analysis
        self.interpreter = PDFPageInterpreter(rsrc, self.device)

    def page_chars(self, index: int, height: float) -> tuple[str, list[tuple]]:
        """The page's text in content order, a newline where a new line starts and a space
        where a gap opens inside a line (as pdfium's text has them), and one box (x0, x1,
        top, bottom; top-down, as pdfium's boxes are made) per character of the text."""
        from pdfminer.layout import LTChar, LTContainer

        if self.pages is None:
            self._open()
        self.interpreter.process_page(self.pages[index])

        def chars(obj):
            for o in obj:
                if isinstance(o, LTChar):
                    yield o
                elif isinstance(o, LTContainer):      # form XObjects (LTFigure)
                    yield from chars(o)

        out: list[str] = []
        boxes: list[tuple] = []
        prev = None
        for ch in chars(self.device.get_result()):
            t = ch.get_text()
            if t.startswith("(cid:"):                # no char map: count it as unreadable
                t = "\ufffd"
            if len(t) != 1:                          # ligatures: first char keeps the box
                t = t[:1] or " "
            b = (ch.x0, ch.x1, height - ch.y1, height - ch.y0)
            if prev is not None:
                size = max(prev[3] - prev[2], b[3] - b[2], 1.0)
                cy, py = (b[2] + b[3]) / 2, (prev[2] + prev[3]) / 2
                if abs(cy - py) > size / 2 or b[0] < prev[0] - size / 2:
                    out.append("\n")
                    boxes.append((prev[1], prev[1], prev[2], prev[3]))
                elif b[0] - prev[1] > 0.15 * size and t != " " and out[-1] != " ":
                    out.append(" ")
                    boxes.append((prev[1], b[0], prev[2], prev[3]))
            out.append(t)
            boxes.append(b)
            prev = b
        return "".join(out), boxes

    def close(self) -> None:
        self.pages = None


_C = None


def _pdfium():
    """The pdfium functions called once per page object, path segment or char, declared
    with plain ctypes types (handles as ints) instead of pypdfium2.raw's pointer classes,
    which roughly halves the cost of each call on pages with hundreds of objects."""
    global _C
    if _C is None:
        import types

        import pypdfium2.raw as c

        H, I, P = ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p   # handle, int, out-pointer

        def fn(name: str, restype, *argtypes):
            return ctypes.CFUNCTYPE(restype, *argtypes)(ctypes.cast(getattr(c, name), H).value)

        _C = types.SimpleNamespace(
            count_objects=fn("FPDFPage_CountObjects", I, H),
            get_object=fn("FPDFPage_GetObject", H, H, I),
            count_form_objects=fn("FPDFFormObj_CountObjects", I, H),
            get_form_object=fn("FPDFFormObj_GetObject", H, H, ctypes.c_ulong),
            object_type=fn("FPDFPageObj_GetType", I, H),
            bounds=fn("FPDFPageObj_GetBounds", I, H, P, P, P, P),
            matrix=fn("FPDFPageObj_GetMatrix", I, H, P),
            count_segments=fn("FPDFPath_CountSegments", I, H),
            segment=fn("FPDFPath_GetPathSegment", H, H, I),
            segment_point=fn("FPDFPathSegment_GetPoint", I, H, P, P),
            segment_type=fn("FPDFPathSegment_GetType", I, H),
            loose_charbox=fn("FPDFText_GetLooseCharBox", I, H, I, P),
            text_font=fn("FPDFTextObj_GetFont", H, H),
            font_embedded=fn("FPDFFont_GetIsEmbedded", I, H),
            PATH=c.FPDF_PAGEOBJ_PATH, FORM=c.FPDF_PAGEOBJ_FORM, TEXT=c.FPDF_PAGEOBJ_TEXT,
            LINETO=c.FPDF_SEGMENT_LINETO,
            FS_MATRIX=c.FS_MATRIX, FS_RECTF=c.FS_RECTF)
    return _C


def _handle(obj) -> int:
    """The address behind a pypdfium2 helper (page, textpage), for _pdfium()'s functions."""
    return ctypes.cast(obj.raw, ctypes.c_void_p).value


def _paths(page) -> tuple[list[int], bool]:
    """Handles of the page's path objects, in page order, including those one form
    XObject deep (what page.get_objects(filter=[PATH], max_depth=2) yields, without a
    Python wrapper object per page object: text pages have hundreds of objects); and
    whether a text object there uses a font the file does not embed."""
    import pypdfium2 as pdfium

    c = _pdfium()
    get_type, path, form, text = c.object_type, c.PATH, c.FORM, c.TEXT
    out: list[int] = []
    fonts: dict[int, bool] = {}         # font handle -> embedded

    def walk(parent: int, count, get, level: int) -> None:
        n = count(parent)
        if n < 0:
            raise pdfium.PdfiumError("Failed to get number of pageobjects.")
        for i in range(n):
            obj = get(parent, i)
            if not obj:
                raise pdfium.PdfiumError("Failed to get pageobject.")
            kind = get_type(obj)
            if kind == path:
                out.append(obj)
            elif kind == text:
                font = c.text_font(obj)
                if font and font not in fonts:
                    fonts[font] = bool(c.font_embedded(font) == 1)
            elif kind == form and level == 0:
                walk(obj, c.count_form_objects, c.get_form_object, 1)

    walk(_handle(page), c.count_objects, c.get_object, 0)
    return out, not all(fonts.values())


def _find_tables(paths: list[int], height: float) -> list[list[list[tuple | None]]]:
    """Ruled tables as lists of rows of cell bboxes (top-down coordinates), using
    pdfplumber's edge merging and cell building on pdfium's path objects."""
    import pypdfium2 as pdfium
    from pdfplumber import table as T

    c = _pdfium()
    edges = []
    box = [ctypes.c_float() for _ in range(4)]            # left, bottom, right, top
    refs = [ctypes.addressof(v) for v in box]
    for obj in paths:
        if c.count_segments(obj) > 5:    # a grid drawn as one path: its lines
            edges += _segment_edges(obj, height)
            continue
        if not c.bounds(obj, *refs):
            raise pdfium.PdfiumError("Failed to locate pageobject.")
        left, bottom, right, top = (v.value for v in box)
        x0, x1, t, b = left, right, height - top, height - bottom
        w, h = x1 - x0, b - t
        if w < 2.5 and h >= 3:
            edges.append(_edge("v", (x0 + x1) / 2, (x0 + x1) / 2, t, b))
        elif h < 2.5 and w >= 3:
            edges.append(_edge("h", x0, x1, (t + b) / 2, (t + b) / 2))
        elif w >= 3 and h >= 3:   # a rectangle: its four sides
            edges += [_edge("h", x0, x1, t, t), _edge("h", x0, x1, b, b),
                      _edge("v", x0, x0, t, b), _edge("v", x1, x1, t, b)]
    if len(edges) < 4:
        return []
    edges = T.merge_edges(edges, 3, 3, 3, 3)
    edges = [e for e in edges if (e["x1"] - e["x0"] if e["orientation"] == "h"
                                  else e["bottom"] - e["top"]) >= 3]
    closing = _open_row_edges(edges)
    edges += closing
    cells = _intersections_to_cells(T.edges_to_intersections(edges, 3, 3))
    tables = []
    for group in T.cells_to_tables(cells):
        rows = _Grid(r.cells for r in T.Table(None, group).rows)
        if max(len(r) for r in rows) >= 2:
            _, top, _, bottom = _bbox(rows)
            rows.open_top = any(abs(e["top"] - top) < 1 for e in closing)
            rows.open_bottom = any(abs(e["top"] - bottom) < 1 for e in closing)
            tables.append(rows)
    return tables


def _open_row_edges(edges: list[dict], tol: float = 3) -> list[dict]:
    """Closing lines for rows left open: a row whose cells wrap onto the next page is drawn
    with its column lines running to the foot of the page (or from its head) and no rule
    there, so no cell would hold its text and the row would fall out of the table. Where
    three or more column lines end at the same height below (above) every rule that they
    cross, a rule joining them is added."""
    hs = [e for e in edges if e["orientation"] == "h"]
    vs = [e for e in edges if e["orientation"] == "v"]
    out = []
    for end in ("bottom", "top"):
        groups: dict[int, list[dict]] = {}
        for v in vs:
            groups.setdefault(round(v[end] / tol), []).append(v)
        for group in groups.values():
            if len(group) < 3:
                continue
            y = sum(v[end] for v in group) / len(group)
            x0, x1 = min(v["x0"] for v in group), max(v["x0"] for v in group)
            if any(abs(h["top"] - y) <= tol and h["x0"] <= x0 + tol and h["x1"] >= x1 - tol
                   for h in hs):
                continue        # already closed
            crossing = [h["top"] for h in hs if h["x0"] <= x1 and h["x1"] >= x0 and
                        min(v["top"] for v in group) - tol <= h["top"] <= max(v["bottom"] for v in group) + tol]
            if crossing and (y > max(crossing) if end == "bottom" else y < min(crossing)):
                out.append(_edge("h", x0, x1, y, y))
    return out


def _segment_edges(obj, height: float) -> list[dict]:
    """Axis-aligned straight segments of a path object (handle), in page coordinates."""
    import pypdfium2 as pdfium

    c = _pdfium()
    m = c.FS_MATRIX()
    if not c.matrix(obj, ctypes.addressof(m)):
        raise pdfium.PdfiumError("Failed to get matrix of pageobject.")
    x, y = ctypes.c_float(), ctypes.c_float()
    xy = ctypes.addressof(x), ctypes.addressof(y)
    prev = None
    out = []
    for i in range(c.count_segments(obj)):
        seg = c.segment(obj, i)
        if not c.segment_point(seg, *xy):
            continue
        px, py = m.a * x.value + m.c * y.value + m.e, m.b * x.value + m.d * y.value + m.f
        kind = c.segment_type(seg)
        if kind == c.LINETO and prev is not None:
            (ax, ay), (bx, by) = prev, (px, py)
            if abs(ay - by) < 1 and abs(ax - bx) >= 3:
                out.append(_edge("h", min(ax, bx), max(ax, bx), height - ay, height - ay))
            elif abs(ax - bx) < 1 and abs(ay - by) >= 3:
                out.append(_edge("v", ax, ax, height - max(ay, by), height - min(ay, by)))
        prev = (px, py)
    return out


def _intersections_to_cells(intersections: dict) -> list[tuple]:
    """pdfplumber.table.intersections_to_cells, same cells in the same order, without its
    quadratic scans: for each intersection (in sorted order) the first point below it and
    then the first point right of it that share a ruling line with it, and whose corner
    point closes the cell. Points below/right come from per-column/per-row lists instead
    of scanning all later points, and the edge sets are built once per point."""
    points = sorted(intersections)
    vs = {p: {(e["x0"], e["top"], e["x1"], e["bottom"]) for e in v["v"]}
          for p, v in intersections.items()}
    hs = {p: {(e["x0"], e["top"], e["x1"], e["bottom"]) for e in v["h"]}
          for p, v in intersections.items()}
    columns: dict = {}
    rows: dict = {}
    for p in points:           # sorted by x then y: columns go down, rows go right
        columns.setdefault(p[0], []).append(p)
        rows.setdefault(p[1], []).append(p)
    col_at = {p: i for col in columns.values() for i, p in enumerate(col)}
    row_at = {p: i for row in rows.values() for i, p in enumerate(row)}
    cells = []
    for pt in points:
        pv, ph = vs[pt], hs[pt]
        right = [q for q in rows[pt[1]][row_at[pt] + 1:] if not ph.isdisjoint(hs[q])]
        if not right:
            continue
        for below in columns[pt[0]][col_at[pt] + 1:]:
            if pv.isdisjoint(vs[below]):
                continue
            cell = None
            for q in right:
                corner = (q[0], below[1])
                if corner in vs and not vs[corner].isdisjoint(vs[q]) \
                        and not hs[corner].isdisjoint(hs[below]):
                    cell = (pt[0], pt[1], corner[0], corner[1])
                    break
            if cell:
                cells.append(cell)
                break
    return cells


def _edge(orient: str, x0: float, x1: float, top: float, bottom: float) -> dict:
    return {"orientation": orient, "x0": x0, "x1": x1, "top": top, "bottom": bottom,
            "width": x1 - x0, "height": bottom - top, "object_type": "line"}


def _charbox(textpage, height: float):
    """A function giving char i's (x0, x1, top, bottom) in top-down coordinates: pdfium's
    loose char box (textpage.get_charbox(i, loose=True)) read with one raw call into one
    reused rect, as a table page needs the box of every char."""
    import pypdfium2 as pdfium

    c = _pdfium()
    rect = c.FS_RECTF()
    ref, raw, get = ctypes.addressof(rect), _handle(textpage), c.loose_charbox

    def box(i: int) -> tuple[float, float, float, float]:
        if not get(raw, i, ref):
            raise pdfium.PdfiumError("Failed to get charbox.")
        return rect.left, rect.right, height - rect.top, height - rect.bottom
    return box


def _page_blocks(box, text: str, tables) -> list:
    """Lines (the text's own line breaks) outside tables, plus tables, sorted top-down;
    box(i) is char i's (x0, x1, top, bottom)."""
    spans, pos = [], 0
    for m in _LINE_BREAK.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    spans = [(s, e) for s, e in spans if text[s:e].strip()]
    if not tables:
        return [_fast_line(box, text, s, e) for s, e in spans]
    boxes = {s: [box(i) for i in range(s, e)] for s, e in spans}
    while True:
        blocks, filled = _assign(text, spans, boxes, tables)
        # a page frame or text box drawn around paragraphs is not a table: its rows hold
        # one long cell each; read its text as lines instead
        keep = [t for t, rows in zip(tables, filled) if not _text_like(rows)]
        if len(keep) == len(tables):
            break
        tables = keep
    for rows, cells in zip(tables, filled):
        box = _bbox(rows)
        blocks.append(Table(box[1], box[3], cells, getattr(rows, "open_top", False),
                            getattr(rows, "open_bottom", False)))
    blocks.sort(key=lambda b: b.top)
    return [b for b in blocks if not isinstance(b, Table) or any(any(c for c in r) for r in b.rows)]


def _fast_line(box, text: str, s: int, e: int) -> Line:
    """A text line from its first and last glyph boxes only (the cheap path)."""
    line = text[s:e]                    # holds a non-space char: blank lines are skipped
    first = s + len(line) - len(line.lstrip())      # str.strip() strips what isspace()
    last = s + len(line.rstrip()) - 1
    b0, b1 = box(first), box(last)
    return Line(_tidy(line), b0[0], b1[1], min(b0[2], b1[2]), max(b0[3], b1[3]),
                max(b0[3] - b0[2], b1[3] - b1[2], 1.0))


def _assign(text: str, spans, boxes: dict, tables) -> tuple[list, list]:
    """Chars to table cells or to lines outside the tables."""
    locate = _Locator(tables).locate
    cell_chars: list[dict] = [dict() for _ in tables]
    blocks: list = []
    for s, e in spans:
        outside = []
        for ch, box in zip(text[s:e], boxes[s]):
            where = locate((box[0] + box[1]) / 2, (box[2] + box[3]) / 2)
            if where is None:
                outside.append((ch, box))
            else:
                cell_chars[where[0]].setdefault(where[1:], []).append((ch, box))
        blocks.extend(_line(run) for run in _split_runs(outside))
    return blocks, [_fill(rows, cell_chars[t]) for t, rows in enumerate(tables)]


def _text_like(rows: list[list[str]]) -> bool:
    full = [r for r in rows if any(c.strip() for c in r)]
    single = [r for r in full if sum(1 for c in r if c.strip()) == 1 and
              max(len(c) for c in r) > 15]
    return bool(full) and len(single) >= 0.5 * len(full)


def _bbox(rows) -> tuple[float, float, float, float]:
    cells = [c for r in rows for c in r if c]
    return (min(c[0] for c in cells), min(c[1] for c in cells),
            max(c[2] for c in cells), max(c[3] for c in cells))


class _Locator:
    """Which table cell holds a point: the first table (in order) whose frame holds it,
    and in it the first cell in row order that holds it, bounds included; (t, -1, -1)
    inside a frame but in no cell (rule gaps: dropped); None outside all tables.
    Rather than testing every cell per char, per table: the distinct cell tops/bottoms
    sorted, and for each of them and for each gap between two of them the cells (in row
    order) whose vertical extent covers it. A point is placed by bisection and tested
    against those few cells only."""

    def __init__(self, tables):
        self.frames = [_bbox(t) for t in tables]
        self.index = []
        for rows in tables:
            ys = sorted({v for row in rows for cell in row if cell for v in (cell[1], cell[3])})
            at = {y: j for j, y in enumerate(ys)}
            slots: list[list] = [[] for _ in range(2 * len(ys) - 1)]   # 2j: ys[j]; 2j+1: gap
            for r, row in enumerate(rows):
                for k, cell in enumerate(row):
                    if cell:
                        for slot in range(2 * at[cell[1]], 2 * at[cell[3]] + 1):
                            slots[slot].append((cell[0], cell[2], r, k))
            self.index.append((ys, slots))

    def locate(self, x: float, y: float) -> tuple[int, int, int] | None:
        for t, (x0, top, x1, bottom) in enumerate(self.frames):
            if x0 <= x <= x1 and top <= y <= bottom:
                ys, slots = self.index[t]
                j = bisect_left(ys, y)      # ys[0] <= y <= ys[-1]: the frame spans them
                for cx0, cx1, r, k in slots[2 * j if ys[j] == y else 2 * j - 1]:
                    if cx0 <= x <= cx1:
                        return t, r, k
                return t, -1, -1
        return None


def _split_runs(chars: list) -> list[list]:
    """Chars outside tables on one pdfium line, split where a table interrupts them."""
    runs, run = [], []
    for ch, box in chars:
        if run and box[0] < run[-1][1][0] - 1 and not ch.isspace():
            runs.append(run)
            run = []
        run.append((ch, box))
    if run:
        runs.append(run)
    return [r for r in runs if "".join(c for c, _ in r).strip()]


def _line(run: list) -> Line:
    real = [b for c, b in run if not c.isspace()]
    return Line(_tidy("".join(c for c, _ in run)), min(b[0] for b in real),
                max(b[1] for b in real), min(b[2] for b in real), max(b[3] for b in real),
                max(max(b[3] - b[2] for b in real), 1.0))


def _fill(rows, chars: dict) -> list[list[str]]:
    """Cell texts: each cell's chars in line order; a cell's own line breaks are joined
    without a space (Chinese cells wrap anywhere). Merged cells (None) stay empty."""
    out = []
    for r, row in enumerate(rows):
        cells = []
        for k, cell in enumerate(row):
            got = chars.get((r, k), [])
            if not got:
                cells.append("")
                continue
            text = _tidy("".join(c for c, _ in _reading_order(got))).replace("\t", " ")
            # pdfium inserts spaces at glyph gaps; inside a cell they never split a figure
            cells.append(_NUM_SPACE.sub("", text))
        out.append(cells)
    return out


def _reading_order(chars: list) -> list:
    """Chars of a cell in lines top-down, each line left to right. A char joins the current
    line while its vertical centre lies within the line (a comma's small box sits low)."""
    chars = sorted(chars, key=lambda cb: (cb[1][2] + cb[1][3]) / 2)
    lines, bottom = [], None
    for ch, box in chars:
        cy = (box[2] + box[3]) / 2
        if bottom is None or cy > bottom:
            lines.append([])
            bottom = box[3]
        else:
            bottom = max(bottom, box[3]) if box[3] - box[2] > 4 else bottom
        lines[-1].append((ch, box))
    return [cb for line in lines for cb in sorted(line, key=lambda cb: cb[1][0])]


def _tidy(s: str) -> str:
    s = s.replace("\u00a0", " ").replace("\t", " ").replace("\x02", "").replace("\ufffe", "")
    s = _BREAKS.sub("", s)
    s = _CJK_SPACE.sub("", s)
    return _SPACES.sub(" ", s).strip()


def _drop_headers_footers(pages: list[Page]) -> None:
    """Bare page numbers and running headers/footers in the top/bottom band of a page."""
    def key(line: Line) -> str:
        return re.sub(r"\d+", "#", line.text)

    def in_band(line: Line, page: Page) -> bool:
        return line.bottom < page.height * _BAND or line.top > page.height * (1 - _BAND)

    repeated = Counter()
    for p in pages:
        repeated.update({key(b) for b in p.blocks if isinstance(b, Line) and in_band(b, p)})
    threshold = max(3, len(pages) // 2)
    for p in pages:
        p.blocks = [b for b in p.blocks if not (
            isinstance(b, Line) and in_band(b, p) and
            (_PAGE_NO.match(b.text) or (len(pages) >= 3 and repeated[key(b)] >= threshold)))]


def _assemble(pages: list[Page]) -> str:
    """Join wrapped lines into paragraphs and tables (also across pages) into one text."""
    margins = _margins(pages)
    out: list[str] = []
    para = ""
    prev: Line | None = None
    prev_right = 0.0
    open_header: list[str] | None = None   # header row of a table that ended its page
    open_row: list[str] | None = None      # its last row, if the page break cut it

    def flush():
        nonlocal para
        if para:
            out.append(para)
            para = ""

    for page, (left, right) in zip(pages, margins):
        for k, b in enumerate(page.blocks):
            if isinstance(b, Table):
                flush()
                prev = None
                if k == 0 and open_header is not None and len(b.rows[0]) == len(open_header) \
                        and out and out[-1] == "":
                    # a table running on from the previous page: one table, header not repeated
                    out.pop()
                    rows = b.rows[1:] if b.rows[0] == open_header else b.rows
                    if b.open_top and open_row and rows and len(rows[0]) == len(open_row):
                        # the row the page break cut: its cells' two parts joined
                        out[-1] = "\t".join(a + c for a, c in zip(open_row, rows[0]))
                        rows = rows[1:]
                else:
                    if out and out[-1] != "":
                        out.append("")
                    rows, open_header = b.rows, b.rows[0]
                out.extend("\t".join(r) for r in rows)
                out.append("")
                open_row = b.rows[-1] if b.open_bottom else None
                continue
            open_header = open_row = None
            if para and prev is not None and _continues(prev, b, prev_right, left):
                para += ("" if _joins_tight(para, b.text) else " ") + b.text
            else:
                flush()
                para = b.text
            prev, prev_right = b, right
    flush()
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


def _margins(pages: list[Page]) -> list[tuple[float, float]]:
    """(left, right) text margins per page, from its own lines (pages may differ in size
    and orientation); pages with few lines borrow those of pages of the same width."""
    def pct(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * q))]

    by_width: dict[int, list[Line]] = {}
    for p in pages:
        by_width.setdefault(round(p.width), []).extend(
            b for b in p.blocks if isinstance(b, Line))
    out = []
    for p in pages:
        own = [b for b in p.blocks if isinstance(b, Line)]
        pool = own if sum(len(b.text) >= 12 for b in own) >= 3 else by_width[round(p.width)]
        if not pool:
            out.append((0.0, p.width))
            continue
        long_ = [b.x1 for b in pool if len(b.text) >= 12] or [b.x1 for b in pool]
        out.append((pct([b.x0 for b in pool], 0.1), pct(long_, 0.9)))
    return out


def _continues(prev: Line, nxt: Line, right: float, left: float) -> bool:
    """A line that reaches the right margin and does not end a sentence goes on in the
    next line, unless that one is indented or starts with a numbering label."""
    if not prev.text or prev.text.endswith(_END_PUNCT):
        return False
    if prev.x1 < right - 1.5 * prev.size:
        return False
    if nxt.x0 > left + 1.5 * nxt.size or _LABEL.match(nxt.text):
        return False
    return True


def _joins_tight(a: str, b: str) -> bool:
    """No space when joining wrapped lines, except between two Latin words."""
    return not (a[-1:].isascii() and a[-1:].isalpha() and b[:1].isascii() and b[:1].isalpha())
