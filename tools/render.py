"""Render a plain report text into other formats, for round-trip tests and corpus variants.

Tab rows (cells joined by TAB, as RawDoc text) become real tables in every format."""
from __future__ import annotations

import html
import re
from pathlib import Path


def _blocks(text: str) -> list[tuple[str, object]]:
    """('p', line) and ('table', rows) in order."""
    out: list[tuple[str, object]] = []
    for line in text.splitlines():
        if "\t" in line:
            if out and out[-1][0] == "table":
                out[-1][1].append(line.split("\t"))
            else:
                out.append(("table", [line.split("\t")]))
        elif line.strip():
            out.append(("p", line.strip()))
    return out


def to_pdf(text: str, path: Path | str, wrap_chars: int = 38, justify: bool = False) -> Path:
    """A PDF in reportlab's built-in CJK font STSong-Light (not embedded: a reader takes
    its widths from the PDF and its glyphs from the machine's fonts): paragraphs wrapped at
    about wrap_chars characters (so figures sometimes break across lines), justified if
    asked (the gaps between characters then vary), tab rows as a ruled table whose cells
    wrap, page numbers at the foot."""
    from reportlab.lib.enums import TA_JUSTIFY, TA_LEFT
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    size = 11
    width = wrap_chars * size + 2          # the frame width decides where lines wrap
    margin = (A4[0] - width) / 2
    body = ParagraphStyle("b", fontName="STSong-Light", fontSize=size, leading=size * 1.6,
                          wordWrap="CJK", alignment=TA_JUSTIFY if justify else TA_LEFT)
    cell = ParagraphStyle("c", fontName="STSong-Light", fontSize=7, leading=9, wordWrap="CJK")
    story = []
    for kind, val in _blocks(text):
        if kind == "p":
            story.append(Paragraph(html.escape(val), body))
        else:
            rows = [_rstrip_cells(r) for r in val]
            n = max(len(r) for r in rows)
            rows = [[Paragraph(html.escape(c), cell) for c in r + [""] * (n - len(r))]
                    for r in rows]
            table_width = A4[0] - 60       # tables use the page width, not the text width
            t = Table(rows, colWidths=[table_width / n] * n, repeatRows=0, splitInRow=1)
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            story += [Spacer(1, 4), t, Spacer(1, 4)]

    def footer(canvas, doc):
        canvas.setFont("STSong-Light", 9)
        canvas.drawCentredString(A4[0] / 2, 30, f"- {doc.page} -")

    path = Path(path)
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=margin, rightMargin=margin,
                      topMargin=60, bottomMargin=60).build(story, onFirstPage=footer,
                                                           onLaterPages=footer)
    return path


def _rstrip_cells(row: list[str]) -> list[str]:
    while len(row) > 1 and not row[-1].strip():
        row = row[:-1]
    return row


_HEADING = re.compile(r"^[一二三四五六七八九十]+、")


def to_docx(text: str, path: Path | str, tables: str = "word") -> Path:
    """A .docx: lines starting 一、 as headings, tab rows as a Word table, or with
    tables="tabs" as paragraphs whose cells are separated by tab characters (w:tab), the
    way office notices often type a table."""
    import docx

    d = docx.Document()
    for kind, val in _blocks(text):
        if kind == "p":
            if _HEADING.match(val):
                d.add_heading(val, level=1)
            else:
                d.add_paragraph(val)
        elif tables == "tabs":
            for r in val:
                run = d.add_paragraph().add_run()
                for j, c in enumerate(r):
                    if j:
                        run.add_tab()
                    run.add_text(c)
        else:
            rows = val
            n = max(len(r) for r in rows)
            table = d.add_table(rows=len(rows), cols=n)
            table.style = "Table Grid"
            for row, r in zip(table.rows, rows):     # table.cell(i, j) is slow: row by row
                for cell, c in zip(row.cells, r):
                    cell.text = c
    path = Path(path)
    d.save(str(path))
    return path


def to_html(text: str, path: Path | str, encoding: str = "gbk", chrome: bool = True) -> Path:
    """A government-portal page: <meta charset> declared, breadcrumb 当前位置, share bar,
    print/close buttons and a footer with 备案号 around the article; tab rows as <table>."""
    parts = []
    for kind, val in _blocks(text):
        if kind == "p":
            parts.append(f"<p>{html.escape(val)}</p>")
        else:
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                           for r in val)
            parts.append(f'<table border="1">{rows}</table>')
    article = "\n".join(parts)
    nav = chrome and """<div class="nav"><a href="/">首页</a> | <a href="/zwgk">政务公开</a> |
<a href="/hdjl">互动交流</a></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; 政务公开 &gt; 民生实事</div>""" or ""
    tail = chrome and """<div class="share">分享到：微信 微博 QQ空间</div>
<p>【关闭窗口】【打印本文】</p>
<div class="footer"><p>主办单位：某某市人民政府办公室  技术支持：某某信息技术有限公司</p>
<p>备案号：晋ICP备05001234号  网站标识码：1408000001</p></div>""" or ""
    page = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={encoding}">
<title>民生实事</title></head>
<body>{nav}
<div class="article"><div class="content">
{article}
</div></div>
{tail}
</body></html>
"""
    path = Path(path)
    path.write_bytes(page.encode(encoding, errors="xmlcharrefreplace"))
    return path


def to_encoding(text: str, path: Path | str, encoding: str = "gb18030") -> Path:
    """The text in another encoding (gb18030, gbk, big5); characters the encoding lacks
    are written as '?' (Big5 lacks simplified characters: convert with OpenCC first)."""
    path = Path(path)
    path.write_bytes(text.encode(encoding, errors="replace"))
    return path
