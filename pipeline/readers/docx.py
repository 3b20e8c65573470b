"""Word .docx: paragraphs in body order with tables at their place, automatic numbering
labels recovered (python-docx drops them), merged cells written once.

Safety: the zip is checked before anything is inflated (total size and compression
ratio), DTDs are refused, and python-docx's parser does not resolve entities."""
from __future__ import annotations

import io
import re
import zipfile

from pipeline.types import RawDoc, ReadError

MAX_UNZIPPED = 200 * 1024 * 1024
MAX_RATIO = 100
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CN_DIGITS = "零一二三四五六七八九"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def check_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """Open an OOXML package, refusing zip bombs before inflating anything."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ReadError(f"not a valid {kind} (not a zip package): the file is damaged or "
                        f"has the wrong suffix; open and re-save it as {kind}") from None
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise ReadError(f"{kind} looks like a zip bomb ({info.filename} expands "
                            f"{info.file_size // max(info.compress_size, 1)}x): refused")
    if total > MAX_UNZIPPED:
        raise ReadError(f"{kind} expands to {total // 2**20} MB, more than the limit of "
                        f"{MAX_UNZIPPED // 2**20} MB: refused")
    for n in zf.namelist():
        if n.endswith(".xml") and zf.getinfo(n).file_size < 50_000_000:
            head = zf.read(n)[:4096]
            if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                raise ReadError(f"{kind} part {n} declares a DTD or entities (unsafe XML): "
                                "refused; re-save the file in Word")
    return zf


def read(data: bytes, name: str = "") -> RawDoc:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    check_zip(data, ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as e:
        raise ReadError(f"not a readable .docx ({type(e).__name__}): re-save it in Word "
                        "as .docx") from None
    numbering = Numbering(document)
    styles = _style_numpr(document)
    out: list[str] = []
    paras: list[str] = []           # body paragraphs since the last Word table
    for el in document.element.body.iterchildren():
        if el.tag == W + "p":
            text = _para_text(el, tabs=True)
            label = numbering.label(_numpr(el, styles))
            if label and text.strip():
                text = label + text.lstrip()
            paras.append(text)
        elif el.tag == W + "tbl":
            out.extend(_tab_rows(paras))
            paras = []
            if out and out[-1] != "":
                out.append("")
            out.extend(_table_rows(el))
            out.append("")
    out.extend(_tab_rows(paras))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n") + "\n"
    return RawDoc(text=text, format="docx")


def _para_text(p, tabs: bool = False) -> str:
    """Run texts; breaks become spaces. A tab (w:tab, or a TAB typed in the text) stays a
    TAB when `tabs` (body paragraphs: _tab_rows decides) and is a space in table cells."""
    parts = []
    for node in p.iter(W + "t", W + "tab", W + "br", W + "cr"):
        if node.tag == W + "t":
            parts.append(node.text or "")
        elif node.tag == W + "tab" and node.getparent().tag == W + "r":   # not a tab stop
            parts.append("\t")
        else:
            parts.append(" ")
    text = "".join(parts).strip(" \u3000")
    return text if tabs else text.replace("\t", " ").strip()


def _tab_rows(paras: list[str]) -> list[str]:
    """Office notices often type a table as paragraphs whose columns are separated by tabs.
    A run of two or more consecutive paragraphs with tabs reads as table rows, tabs kept as
    they are (a leading tab is an empty first cell), like the same lines in a .txt, and is
    set off by blank lines as a table is. A lone paragraph's tabs are indents or spacing:
    spaces."""
    out: list[str] = []
    k = 0
    while k < len(paras):
        j = k
        while j < len(paras) and "\t" in paras[j] and paras[j].strip():
            j += 1
        if j - k >= 2:
            if out and out[-1] != "":
                out.append("")
            out.extend(paras[k:j])
            out.append("")
            k = j
        else:
            p = paras[k]
            out.append(re.sub(r"\s*\t\s*", " ", p).strip() if "\t" in p else p)
            k += 1
    return out


def _cell_text(tc) -> str:
    paras = [_para_text(p) for p in tc.iter(W + "p")]
    text = ""
    for p in filter(None, paras):
        sep = " " if text and text[-1:].isascii() and text[-1:].isalnum() and \
            p[:1].isascii() and p[:1].isalnum() else ""
        text += sep + p
    return text


def _table_rows(tbl) -> list[str]:
    """Tab rows; gridSpan cells leave empty cells after them, vMerge continuations are
    empty, so each merged cell's text appears once."""
    rows = []
    for tr in tbl.iterchildren(W + "tr"):
        cells: list[str] = []
        for tc in tr.iterchildren(W + "tc"):
            pr = tc.find(W + "tcPr")
            span, cont = 1, False
            if pr is not None:
                gs = pr.find(W + "gridSpan")
                if gs is not None:
                    span = max(1, int(gs.get(W + "val", "1") or 1))
                vm = pr.find(W + "vMerge")
                cont = vm is not None and vm.get(W + "val", "continue") == "continue"
            cells.append("" if cont else _cell_text(tc))
            cells.extend([""] * (span - 1))
        rows.append("\t".join(c.replace("\t", " ") for c in cells))
    return rows


def _style_numpr(document) -> dict[str, tuple[str | None, int | None]]:
    """numPr set on paragraph styles (headings often number through their style)."""
    out = {}
    for st in document.styles.element.iterchildren(W + "style"):
        np_ = st.find(f"{W}pPr/{W}numPr")
        if np_ is not None:
            out[st.get(W + "styleId")] = _read_numpr(np_)
    return out


def _read_numpr(np_) -> tuple[str | None, int | None]:
    num = np_.find(W + "numId")
    lvl = np_.find(W + "ilvl")
    return (num.get(W + "val") if num is not None else None,
            int(lvl.get(W + "val")) if lvl is not None else None)


def _numpr(p, styles) -> tuple[str, int] | None:
    ppr = p.find(W + "pPr")
    num_id, ilvl = None, None
    if ppr is not None:
        np_ = ppr.find(W + "numPr")
        if np_ is not None:
            num_id, ilvl = _read_numpr(np_)
        if num_id is None:
            st = ppr.find(W + "pStyle")
            if st is not None and st.get(W + "val") in styles:
                num_id, s_lvl = styles[st.get(W + "val")]
                ilvl = ilvl if ilvl is not None else s_lvl
    if num_id is None or num_id == "0":
        return None
    return num_id, ilvl or 0


class Numbering:
    """The numbering part: numId -> abstract levels (numFmt, lvlText, start), and the
    running counters Word keeps per abstract numbering."""

    def __init__(self, document) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}
        self.abstract_of: dict[str, str] = {}
        self.counters: dict[str, list[int]] = {}
        try:
            part = document.part.numbering_part
        except (NotImplementedError, KeyError):
            return
        root = part.element
        abstract = {}
        for an in root.iterchildren(W + "abstractNum"):
            levels = {}
            for lvl in an.iterchildren(W + "lvl"):
                fmt = lvl.find(W + "numFmt")
                txt = lvl.find(W + "lvlText")
                start = lvl.find(W + "start")
                levels[int(lvl.get(W + "ilvl", "0"))] = (
                    fmt.get(W + "val") if fmt is not None else "decimal",
                    txt.get(W + "val") if txt is not None else "",
                    int(start.get(W + "val")) if start is not None else 1)
            abstract[an.get(W + "abstractNumId")] = levels
        for num in root.iterchildren(W + "num"):
            ref = num.find(W + "abstractNumId")
            if ref is not None and ref.get(W + "val") in abstract:
                nid = num.get(W + "numId")
                self.abstract_of[nid] = ref.get(W + "val")
                self.levels[nid] = abstract[ref.get(W + "val")]

    def label(self, numpr: tuple[str, int] | None) -> str:
        if numpr is None or numpr[0] not in self.levels:
            return ""
        num_id, ilvl = numpr
        levels = self.levels[num_id]
        if ilvl not in levels:
            return ""
        key = self.abstract_of[num_id]
        counts = self.counters.setdefault(key, [0] * 9)
        if ilvl >= len(counts):
            return ""
        counts[ilvl] = counts[ilvl] + 1 if counts[ilvl] else levels[ilvl][2]
        for deeper in range(ilvl + 1, len(counts)):
            counts[deeper] = 0
        fmt, text, _ = levels[ilvl]
        if fmt in ("bullet", "none") or not text:
            return ""

        def sub(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            f, _, start = levels.get(k, ("decimal", "", 1))
            return _format(counts[k] or start, f)
        return re.sub(r"%(\d)", sub, text)


def _format(n: int, fmt: str) -> str:
    if fmt in ("chineseCounting", "chineseCountingThousand", "chineseLegalSimplified",
               "ideographDigital", "taiwaneseCounting", "taiwaneseCountingThousand"):
        return _chinese(n)
    if fmt.startswith("decimalEnclosedCircle"):
        return _CIRCLED[n - 1] if 1 <= n <= len(_CIRCLED) else str(n)
    if fmt == "decimalEnclosedParen":
        return f"({n})"
    if fmt == "lowerLetter":
        return chr(ord("a") + (n - 1) % 26)
    if fmt == "upperLetter":
        return chr(ord("A") + (n - 1) % 26)
    if fmt in ("lowerRoman", "upperRoman"):
        r = _roman(n)
        return r.lower() if fmt == "lowerRoman" else r
    if fmt == "ideographTraditional":
        return "甲乙丙丁戊己庚辛壬癸"[(n - 1) % 10]
    if fmt == "decimalFullWidth":
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return str(n)


def _chinese(n: int) -> str:
    """1-99 as 一 … 十一 … 九十九 (numbering never goes further in these reports)."""
    if n <= 0 or n >= 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def _roman(n: int) -> str:
    vals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
            (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out
