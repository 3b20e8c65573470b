"""HTML pages: honour and verify the declared charset, take the main text with trafilatura
(falling back to the <body> text), tables as tab rows, and drop site chrome lines."""
from __future__ import annotations

import codecs
import re
from functools import lru_cache

from pipeline.readers.text import decode as decode_text
from pipeline.types import RawDoc, ReadError

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.I)
# Declared names to the codec that decodes them without loss: GB2312/GBK pages often hold
# GBK-only characters, and GB18030 is a superset of both.
_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "gb_2312-80": "gb18030",
            "big5": "big5hkscs", "x-x-big5": "big5hkscs"}
_CJK = re.compile(r"[\u3400-\u9fff]")
_WS = re.compile(r"[ \t\u00a0\u3000\r\n]+")
# Elements that start a new line; everything else is inline.
_BLOCK = {"p", "div", "head", "item", "list", "quote", "h1", "h2", "h3", "h4", "h5", "h6",
          "li", "ul", "ol", "section", "article", "blockquote", "pre", "dd", "dt", "dl",
          "center", "address", "header", "main", "figure", "figcaption", "tbody", "thead",
          "tfoot", "caption", "form", "fieldset", "body", "html", "doc", "table"}
_BREAK = {"br", "lb", "hr"}
_SKIP = {"script", "style", "noscript", "iframe", "nav", "footer", "select", "option",
         "button", "input", "textarea", "svg", "canvas", "template", "object", "embed",
         "comments", "head_meta"}
_CHROME_CLASS = re.compile(r"(^|[\s_-])(nav|menu|breadcrumb|crumb|footer|foot|share|toolbar|"
                           r"header|topbar|sidebar|copyright|position|location|print)", re.I)
_MIN_MAIN_CJK = 40


def read(data: bytes, name: str = "") -> RawDoc:
    html, encoding, warnings = decode_html(data)
    # Pages saved from a browser may close </body></html> before the article; the parser
    # would then drop the article, so those end tags carry no meaning here.
    html = re.sub(r"</\s*(html|body)\s*>", "", html, flags=re.I)
    text = main_text(html, warnings)
    if not text.strip():
        raise ReadError("HTML page has no readable text (only scripts or images?)")
    return RawDoc(text=text, format="html", encoding=encoding, warnings=warnings)


def decode_html(data: bytes) -> tuple[str, str, list[str]]:
    """Decode with the declared charset if the bytes agree with it, else detect."""
    warnings: list[str] = []
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        text, enc, w = decode_text(data)
        return text, enc, w
    m = _META_CHARSET.search(data[:8192])
    if m:
        declared = (m.group(1) or m.group(2)).decode("ascii", "replace").lower()
        codec = _ALIASES.get(declared, declared)
        try:
            codecs.lookup(codec)
            return data.decode(codec), declared, warnings
        except LookupError:
            warnings.append(f"declared charset {declared!r} is unknown; detected instead")
        except UnicodeDecodeError:
            warnings.append(f"declared charset {declared!r} does not match the bytes; "
                            "detected instead")
    text, enc, w = decode_text(data)
    return text, enc, warnings + w


def main_text(html: str, warnings: list[str]) -> str:
    """trafilatura's main text, unless it found too little or flattened the page (small
    pages make it fall back to one paragraph of everything), then the cleaned body text."""
    import lxml.etree
    import lxml.html

    main = ""
    try:
        main = _trafilatura_text(html)
    except RecursionError:
        warnings.append("page nested too deeply for main-text extraction; used the body text")
    parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError) as e:
        if main:
            return main
        raise ReadError(f"HTML cannot be parsed: {e}") from None
    body = _drop_chrome(_lines(root, chrome_classes=True))
    if not _CJK.search(body) and not body.strip():
        # libxml2 stops building the tree past a few hundred levels of nesting; the text
        # is still there, so read it without the tree
        body = _drop_chrome(_tag_stripped(html))
        if body.strip():
            warnings.append("page nested too deeply for its structure; read as plain text")
    if _main_is_good(main, body):
        return main
    if main:
        warnings.append("main-text extraction found too little; used the body text")
    return body


def _tag_stripped(html: str) -> str:
    html = re.sub(r"(?is)<(script|style|noscript)\b.*?</\1\s*>", " ", html)
    html = re.sub(r"(?i)<(?:br|p|div|tr|li|h[1-6])\b[^>]*>", "\n", html)
    import html as htmlmod
    text = htmlmod.unescape(re.sub(r"<[^>]*>", "", html))
    return "\n".join(_WS.sub(" ", ln).strip() for ln in text.split("\n")) + "\n"


def _main_is_good(main: str, body: str) -> bool:
    max_chars, pat, _ = _chrome_rules()
    n_main, n_body = len(_CJK.findall(main)), len(_CJK.findall(body))
    if n_main < _MIN_MAIN_CJK or n_main < 0.1 * n_body:
        return False
    if "\t" in body and "\t" not in main:          # lost the tables
        return False
    # chrome inside a long line: trafilatura flattened the whole page into one paragraph
    return not any(len(ln) > max_chars and pat.search(ln) for ln in main.split("\n"))


def _trafilatura_text(html: str) -> str:
    import lxml.etree
    import trafilatura

    xml = trafilatura.extract(html, output_format="xml", include_tables=True,
                              include_comments=False, include_images=False,
                              include_links=False, deduplicate=False, favor_recall=True)
    if not xml:
        return ""
    root = lxml.etree.fromstring(xml.encode("utf-8"),
                                 parser=lxml.etree.XMLParser(resolve_entities=False,
                                                             no_network=True))
    main = root.find("main")
    return _drop_chrome(_lines(main if main is not None else root))


def _lines(el, chrome_classes: bool = False) -> str:
    """Text of an element tree: blocks on their own lines, data tables as tab rows."""
    out: list[str] = []
    _walk(el, out, chrome_classes)
    text = "".join(out)
    lines = [_WS.sub(" ", ln).strip() if "\t" not in ln else
             "\t".join(_WS.sub(" ", c).strip() for c in ln.split("\t"))
             for ln in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n") + "\n"


def _tag(el) -> str:
    t = el.tag
    return t.lower() if isinstance(t, str) else ""


def _walk(root, out: list[str], chrome_classes: bool) -> None:
    """Iterative walk (lxml iterwalk), so a page nested 200,000 deep cannot exhaust the
    Python stack."""
    import lxml.etree

    walker = lxml.etree.iterwalk(root, events=("start", "end"))
    skipped = set()     # elements whose subtree was skipped: their end event emits the tail only
    for event, el in walker:
        tag = _tag(el)
        if event == "start":
            if not tag or tag in _SKIP or (chrome_classes and _is_chrome(el)):
                skipped.add(el)
                walker.skip_subtree()
                continue
            if tag == "table" and _is_data_table(el):
                out.append("\n\n" + _table_rows(el) + "\n\n")
                skipped.add(el)
                walker.skip_subtree()
                continue
            if tag in _BREAK or tag in _BLOCK or tag in ("tr", "row"):
                out.append("\n")
            elif tag in ("td", "th", "cell"):
                out.append(" ")
            if el.text:
                out.append(el.text.replace("\t", " "))   # tabs are ours: cell separators
        else:
            if el in skipped:
                skipped.discard(el)
            elif tag in _BLOCK or tag in ("tr", "row"):
                out.append("\n")
            if el.tail and el is not root:
                out.append(el.tail.replace("\t", " "))


def _is_chrome(el) -> bool:
    attrs = f"{el.get('class', '')} {el.get('id', '')}"
    return bool(attrs.strip()) and bool(_CHROME_CLASS.search(attrs)) and \
        _tag(el) not in ("body", "html")


def _rows(table) -> list:
    """Rows of this table only (not of tables nested inside it)."""
    return [r for r in table.iter("tr", "row") if _owner_table(r) is table]


def _owner_table(el):
    p = el.getparent()
    while p is not None and _tag(p) != "table":
        p = p.getparent()
    return p


def _is_data_table(table) -> bool:
    """Layout tables (a page grid holding the article) are read as blocks, not rows."""
    if any(True for t in table.iter("table") if t is not table):
        return False
    rows = _rows(table)
    if not rows:
        return False
    for r in rows:
        for c in r:
            if _tag(c) in ("td", "th", "cell") and len(_cell_text(c)) > 300:
                return False
    return True


def _cell_text(cell) -> str:
    """A cell's text; its inner line breaks joined without spaces (Chinese cells wrap
    anywhere), other runs of spaces kept as one space."""
    text = "".join(cell.itertext())
    text = re.sub(r"[ \t\u00a0\u3000]*[\r\n]+[ \t\u00a0\u3000\r\n]*", "", text)
    return re.sub(r"[ \t\u00a0\u3000]+", " ", text).strip()


def _table_rows(table) -> str:
    """One line per row, cells joined by tabs. colspan/rowspan cells give their text once
    and leave the cells they cover empty, so columns stay aligned."""
    grid: list[list[str]] = []
    pending: dict[int, int] = {}       # column -> rows still covered by a rowspan above
    for r in _rows(table):
        row: list[str] = []
        col = 0
        cells = [c for c in r if _tag(c) in ("td", "th", "cell")]
        for c in cells:
            while pending.get(col, 0) > 0:
                row.append("")
                pending[col] -= 1
                col += 1
            row.append(_cell_text(c).replace("\t", " "))
            span = _int(c.get("colspan"), 1)
            down = _int(c.get("rowspan"), 1)
            for k in range(span):
                if k:
                    row.append("")
                if down > 1:
                    pending[col + k] = down - 1
            col += span
        while pending.get(col, 0) > 0:
            row.append("")
            pending[col] -= 1
            col += 1
        if any(x.strip() for x in row):
            grid.append(row)
    width = max((len(r) for r in grid), default=0)
    return "\n".join("\t".join(r + [""] * (width - len(r))) for r in grid)


def _int(v, default: int) -> int:
    try:
        return max(1, min(int(str(v).strip()), 1000))
    except (TypeError, ValueError):
        return default


@lru_cache(maxsize=1)
def _chrome_rules() -> tuple[int, re.Pattern, re.Pattern]:
    from pipeline.rules import read_yaml, rules_dir

    spec = read_yaml((rules_dir() / "lexicon" / "boilerplate.yaml").read_bytes())
    pat = re.compile("|".join(f"(?:{p})" for p in spec["patterns"]))
    words = "|".join(re.escape(w) for w in sorted(spec["words"], key=len, reverse=True))
    only_words = re.compile(rf"^(?:[\s|｜/【】\[\]·•>＞-]*(?:{words}))+[\s|｜/【】\[\]·•>＞-]*$")
    return int(spec.get("max_chars", 80)), pat, only_words


def _drop_chrome(text: str) -> str:
    """Drop short lines that are navigation, share bars, print buttons or footers."""
    max_chars, pat, only_words = _chrome_rules()
    keep = []
    for ln in text.split("\n"):
        s = ln.strip()
        if s and "\t" not in ln and len(s) <= max_chars and (pat.search(s) or only_words.match(s)
                                                            or re.fullmatch(r"https?://\S+", s)):
            continue
        keep.append(ln)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(keep)).strip("\n") + "\n"
