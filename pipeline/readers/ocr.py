"""OCR for scanned pages: RapidOCR's PP-OCRv4 Chinese models, which ship inside the
rapidocr-onnxruntime wheel (nothing is downloaded at run time), run on onnxruntime.

Chosen over Debian's tesseract (chi_sim) on the same scans (bench/ocr_compare.py, README):
PP-OCRv4 read more of the figures right, kept ①②③ and numbering dots that tesseract
turned into @ or dropped, and gives each text line a box and a confidence, which the
layout and the low-confidence flags need.

A page image becomes a pdf.Page of the same Line and Table blocks the text-layer reader
makes, so OCR text goes through the same header/footer dropping and paragraph assembly
(pdf._assemble). Layout from the detector's boxes:
- skew: the median slope of the wide boxes; box corners are rotated by it (a 0.5° tilt
  moves a line's right end 15 px at 200 dpi, enough to mix up two table rows);
- ruled tables: ruling lines found in the deskewed image by morphology; each row band
  between two horizontal rules is a row, the vertical rules crossing it split it into
  cells; a box belongs to the cell holding its centre;
- other boxes: grouped into lines by vertical overlap, left to right.
Each block keeps its boxes' (text, confidence) in text order, so process.py can place
them in the normalized text and flag the figures read with low confidence.
"""
from __future__ import annotations

import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from statistics import median

from pipeline.readers.pdf import Line, Page, Table, _NUM_SPACE, _tidy
from pipeline.types import ReadError

# A figure whose box was recognized below this is flagged (facts: ocr_low_confidence).
# PP-OCRv4 gives clean 200-dpi print 0.95-1.0; a misread digit typically drops a line
# under 0.9.
LOW_CONFIDENCE = 0.9
DPI_DEFAULT, DPI_MIN, DPI_MAX = 200, 150, 300
MAX_SIDE = 2500       # the detector's input limit: an A4 page at 200 dpi is not shrunk
THREADS: int | None = None   # onnxruntime threads per process; set by run.py before forking

_ENGINE = None


def available() -> bool:
    """Whether the OCR package is installed."""
    try:
        import rapidocr_onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def engine():
    """The RapidOCR engine, loaded once per process on first use (workers fork before
    any OCR, so each loads its own: onnxruntime sessions do not survive a fork)."""
    global _ENGINE
    if _ENGINE is None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise ReadError("scanned page needs OCR, but rapidocr-onnxruntime is not "
                            "installed: pip install rapidocr-onnxruntime") from None
        kw = {"max_side_len": MAX_SIDE}
        threads = THREADS or int(os.environ.get("MINSHENG_OCR_THREADS", "0") or 0)
        if threads:
            kw["intra_op_num_threads"] = threads
        _ENGINE = RapidOCR(**kw)
    return _ENGINE


# Pinyin glosses after a character (實(shí)), as some portals print them: normalize.py
# drops them by their tone marks, which the recognizer loses or spaces out ((sh i),
# (chua ng)); read by OCR they are dropped here when they spell one pinyin syllable.
_GLOSS = re.compile(r"(?:(?<=[\u3400-\u9fff])|^)[(（]\s*([a-zA-Zü\u00e0-\u01dc\s]{1,12}?)\s*[)）]")
_SYLLABLE = re.compile(r"(?:[bpmfdtnlgkhjqxrzcsyw]|zh|ch|sh)?[aeiouv]{1,3}(?:ng|n|r)?")


def _strip_glosses(text: str) -> str:
    def drop(m: re.Match) -> str:
        letters = unicodedata.normalize("NFKD", m.group(1).replace(" ", "").lower())
        letters = "".join(c for c in letters if c.isascii()).replace("u\u0308", "v")
        if m.start() == 0 and len(letters) < 2:      # "(a)" opening a line: a label
            return m.group()
        return "" if _SYLLABLE.fullmatch(letters) else m.group()
    return _GLOSS.sub(drop, text)


@dataclass
class OcrLine(Line):
    frags: list[tuple[str, float]] = field(default_factory=list)   # (text, confidence)


@dataclass
class OcrTable(Table):
    frags: list[tuple[str, float]] = field(default_factory=list)


@dataclass
class _Box:
    text: str
    conf: float
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2


# ------------------------------------------------------------------------ PDF pages

def needs_ocr(pdf, index: int, bad: int, count: int) -> bool:
    """A page with no text layer, a garbage one (mostly unmapped glyphs), or a few stray
    characters (a page number stamped) over an image."""
    if count == 0 or bad > 0.3 * count:
        return True
    return count < 10 and bool(_images(pdf[index]))


def _images(page) -> list:
    import pypdfium2.raw as c
    return list(page.get_objects(filter=[c.FPDF_PAGEOBJ_IMAGE], max_depth=2))


def pdf_page(pdf, index: int) -> tuple[Page, int, int]:
    """OCR one PDF page, rendered at its scan's own resolution (the largest image's pixels
    per inch, within 150-300 dpi; 200 without images). Returns what pdf._read_page does:
    (page, unreadable chars, chars)."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        dpi = DPI_DEFAULT
        best = 0.0
        for img in _images(page):
            left, bottom, right, top = img.get_bounds()
            px_w, _ = img.get_px_size()
            if (right - left) * (top - bottom) > best and right - left > 1:
                best = (right - left) * (top - bottom)
                dpi = px_w / ((right - left) / 72)
        dpi = min(max(dpi, DPI_MIN), DPI_MAX)
        image = page.render(scale=dpi / 72, grayscale=True).to_pil()
    finally:
        page.close()
    out = image_page(image)
    # back to PDF points, so pages read from the text layer and by OCR share one scale
    k = 72 / dpi
    out.width, out.height = width, height
    for b in out.blocks:
        b.top, b.bottom = b.top * k, b.bottom * k
        if isinstance(b, Line):
            b.x0, b.x1, b.size = b.x0 * k, b.x1 * k, b.size * k
    return out, 0, sum(len(t) for b in out.blocks for t, _ in b.frags)


# ------------------------------------------------------------------------ one image

def image_page(image) -> Page:
    """The blocks of one page image (PIL), in reading order."""
    import numpy as np

    gray = np.asarray(image.convert("L"))
    result, _ = engine()(np.stack([gray] * 3, axis=-1))
    h, w = gray.shape
    page = Page(float(w), float(h))
    if not result:
        return page
    angle = _rule_skew(gray)
    if angle is None:
        angle = _skew(result)
    m = _rotation(angle, w, h)
    boxes = []
    for pts, text, conf in result:
        text = _tidy(_strip_glosses(text))
        if not text:
            continue
        xs, ys = [], []
        for x, y in pts:
            xs.append(m[0][0] * x + m[0][1] * y + m[0][2])
            ys.append(m[1][0] * x + m[1][1] * y + m[1][2])
        boxes.append(_Box(text, float(conf), min(xs), max(xs), min(ys), max(ys)))
    grids = _grids(gray, m, median(b.bottom - b.top for b in boxes)) if boxes else []
    blocks: list = []
    free = boxes
    for grid in grids:
        table, free = _fill_grid(grid, free)
        if table is not None:
            blocks.append(table)
    blocks += _lines(free)
    blocks.sort(key=lambda b: b.top)
    page.blocks = blocks
    return page


def _skew(result) -> float:
    """The page's tilt in degrees: the median slope of boxes at least 4x wider than high."""
    slopes = []
    for pts, _, _ in result:
        (x0, y0), (x1, y1), _, (_, y3) = pts
        dx, dy = x1 - x0, y1 - y0
        if dx > 4 * abs(y3 - y0) and dx > 0:
            slopes.append(math.degrees(math.atan2(dy, dx)))
    return median(slopes) if slopes else 0.0


def _rule_skew(gray) -> float | None:
    """The tilt in degrees from long horizontal rules (table lines), None without any:
    on a table page most text boxes are too short to give a reliable slope."""
    import cv2
    import numpy as np

    h, w = gray.shape
    ink = (gray < 170).astype(np.uint8)
    # a 2-pixel rule tilted 1.5° still has 75-pixel runs in one pixel row
    hor = cv2.morphologyEx(ink, cv2.MORPH_OPEN,
                           cv2.getStructuringElement(cv2.MORPH_RECT, (max(w // 25, 20), 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(hor)
    angles, weights = [], []
    for i in range(1, n):
        x, y, bw, bh = stats[i][:4]
        if bw < w / 4:
            continue
        ys, xs = np.nonzero(labels[y:y + bh, x:x + bw] == i)
        slope = np.polyfit(xs, ys, 1)[0]
        angles.append(math.degrees(math.atan(slope)))
        weights.append(bw)
    if not angles:
        return None
    order = sorted(range(len(angles)), key=angles.__getitem__)
    half, acc = sum(weights) / 2, 0.0
    for i in order:                        # the weighted median
        acc += weights[i]
        if acc >= half:
            return angles[i]
    return angles[order[-1]]


def _rotation(angle: float, w: int, h: int) -> list[list[float]]:
    """The 2x3 affine matrix that turns the page by -angle about its centre (what
    cv2.getRotationMatrix2D((w/2, h/2), angle, 1) gives: a tilt of +angle undone)."""
    a = math.radians(angle)
    cos, sin = math.cos(a), math.sin(a)
    cx, cy = w / 2, h / 2
    return [[cos, sin, (1 - cos) * cx - sin * cy],
            [-sin, cos, sin * cx + (1 - cos) * cy]]


# ------------------------------------------------------------------------ tables

@dataclass
class _Grid:
    x0: float
    x1: float
    rows: list[tuple[float, float, list[float]]]   # (top, bottom, vertical rule xs)

    @property
    def top(self) -> float:
        return self.rows[0][0]

    @property
    def bottom(self) -> float:
        return self.rows[-1][1]


def _grids(gray, m, line_height: float) -> list[_Grid]:
    """Ruled tables in the deskewed page: long horizontal and vertical strokes (longer
    than any glyph stroke), their connected frames, rows between horizontal rules and
    each row's vertical rules."""
    import cv2
    import numpy as np

    h, w = gray.shape
    straight = cv2.warpAffine(gray, np.array(m, dtype=np.float32), (w, h),
                              flags=cv2.INTER_LINEAR, borderValue=255)
    ink = (straight < 170).astype(np.uint8)
    # ~pixels per point: body text boxes are ~15 pt high; at least what a page of A4
    # width gives at half its width in points (a page of tiny text, or noise, is not ruled)
    unit = max(line_height / 15, w / 1200)
    hor = cv2.morphologyEx(ink, cv2.MORPH_OPEN,
                           cv2.getStructuringElement(cv2.MORPH_RECT, (int(45 * unit), 1)))
    ver = cv2.morphologyEx(ink, cv2.MORPH_OPEN,
                           cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(16 * unit))))
    frame = cv2.dilate(hor | ver, np.ones((3, 3), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(frame)
    out = []
    for i in range(1, n):
        x, y, bw, bh = stats[i][:4]
        if bw < 60 * unit or bh < 10 * unit:
            continue
        hs = _runs(np.flatnonzero(hor[y:y + bh, x:x + bw].sum(axis=1) > 0.5 * bw) + y)
        if not hs:
            continue
        # a table split across pages has no rule where the page cut it: the vertical
        # rules' ends close that row
        if hs[0] - y > 8 * unit:
            hs.insert(0, float(y))
        if y + bh - 1 - hs[-1] > 8 * unit:
            hs.append(float(y + bh - 1))
        if len(hs) < 2:
            continue
        rows = []
        for top, bottom in zip(hs, hs[1:]):
            band = ver[int(top) + 2:int(bottom) - 1, x:x + bw]
            if band.shape[0] < 3:
                continue
            xs = _runs(np.flatnonzero(band.sum(axis=0) > 0.6 * band.shape[0]) + x)
            if len(xs) >= 2:
                rows.append((top, bottom, xs))
        if len(rows) >= 1 and max(len(r[2]) for r in rows) >= 3:   # 2+ columns somewhere
            out.append(_Grid(float(x), float(x + bw), rows))
    return sorted(out, key=lambda g: g.top)


def _runs(idx) -> list[float]:
    """Centres of runs of consecutive integers (a rule several pixels thick is one)."""
    out: list[float] = []
    start = prev = None
    for i in idx.tolist():
        if prev is not None and i == prev + 1:
            prev = i
            continue
        if start is not None:
            out.append((start + prev) / 2)
        start = prev = i
    if start is not None:
        out.append((start + prev) / 2)
    return out


def _fill_grid(grid: _Grid, boxes: list[_Box]) -> tuple[OcrTable | None, list[_Box]]:
    """Boxes into the grid's cells by their centre; returns the table and the boxes
    outside it. Cells hold their boxes in lines top-down, each left to right."""
    cells: dict[tuple[int, int], list[_Box]] = {}
    rest = []
    for b in boxes:
        placed = False
        if grid.x0 <= b.cx <= grid.x1:
            for r, (top, bottom, xs) in enumerate(grid.rows):
                if top <= b.cy <= bottom:
                    for k, (a, z) in enumerate(zip(xs, xs[1:])):
                        if a <= b.cx <= z:
                            cells.setdefault((r, k), []).append(b)
                            placed = True
                            break
                    break
        if not placed:
            rest.append(b)
    if not cells:
        return None, boxes
    rows, frags = [], []
    for r, (_, _, xs) in enumerate(grid.rows):
        row = []
        for k in range(len(xs) - 1):
            got = [b for line in _group(cells.get((r, k), [])) for b in line]
            text = _NUM_SPACE.sub("", _tidy("".join(b.text for b in got))).replace("\t", " ")
            row.append(text)
            frags += [(b.text, b.conf) for b in got]
        rows.append(row)
    while rows and not any(rows[-1]):
        rows.pop()
    while rows and not any(rows[0]):
        rows.pop(0)
    if not rows:
        return None, boxes
    return OcrTable(grid.top, grid.bottom, rows, frags=frags), rest


# ------------------------------------------------------------------------ lines

def _group(boxes: list[_Box]) -> list[list[_Box]]:
    """Boxes in lines: a box joins a line when its centre lies within the line's height."""
    lines: list[list[_Box]] = []
    for b in sorted(boxes, key=lambda b: b.cy):
        for line in reversed(lines[-3:]):
            top = median(x.top for x in line)
            bottom = median(x.bottom for x in line)
            if top < b.cy < bottom and b.top < (top + bottom) / 2 < b.bottom:
                line.append(b)
                break
        else:
            lines.append([b])
    return [sorted(line, key=lambda b: b.x0) for line in lines]


def _lines(boxes: list[_Box]) -> list[OcrLine]:
    out = []
    for line in _group(boxes):
        height = median(b.bottom - b.top for b in line)
        text, prev_x1 = "", 0.0
        for b in line:
            gap = b.x0 - prev_x1 if text else 0
            text += (" " if text and gap > 0.5 * height else "") + b.text
            prev_x1 = b.x1
        text = _tidy(text)
        if not text:
            continue
        out.append(OcrLine(text, line[0].x0, line[-1].x1, min(b.top for b in line),
                           max(b.bottom for b in line), _em(line, height),
                           frags=[(b.text, b.conf) for b in line]))
    return out


def _em(line: list[_Box], height: float) -> float:
    """The font size, from the widths: a Han character is one em wide, other characters
    about half. (The detector's boxes are padded, so their height says less.)"""
    width = sum(b.x1 - b.x0 for b in line)
    ems = sum(1.0 if ord(c) >= 0x2e80 else 0.5 for b in line for c in b.text)
    return width / ems if ems >= 4 else height / 1.4


# ------------------------------------------------------------------------ summary

def summary(pages: list[Page], scanned: list[int]) -> dict:
    """What RawDoc.ocr carries: the OCR'd page numbers, the mean recognition confidence
    (per character) and every fragment's (text, confidence) in text order, after the
    headers and footers were dropped."""
    frags = [f for p in pages for b in p.blocks for f in getattr(b, "frags", ())]
    chars = sum(len(t) for t, _ in frags)
    mean = sum(len(t) * c for t, c in frags) / chars if chars else 0.0
    return {"pages": scanned, "confidence": mean, "fragments": frags}


def place(text: str, fragments: list[tuple[str, float]], window: int = 400
          ) -> list[tuple[int, int, float]]:
    """Where each OCR fragment lies in the normalized text: (start, end, confidence).
    Fragments come in text order, so each is looked for a little after the previous one;
    one not found nearby (a dropped header, a join normalize changed) is skipped."""
    from pipeline.normalize import normalize

    out = []
    pos = 0
    for frag, conf in fragments:
        needle = normalize(frag).strip()
        if not needle:
            continue
        at = text.find(needle, pos, pos + window + len(needle))
        if at < 0:
            continue
        out.append((at, at + len(needle), conf))
        pos = at + len(needle)
    return out
