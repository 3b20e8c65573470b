"""Make scans for OCR tests and benches: a PDF's pages printed to grey images at a given
dpi with a slight tilt and a little blur, saved as an image-only PDF (no text layer),
or a text drawn straight onto an image with Pillow and a CJK font.

Nothing here is shipped data: tests and bench/ocr.py make their scans from text at run
time (the seeds from ../shared, a few lines of their own)."""
from __future__ import annotations

import io
from pathlib import Path

# Debian's fonts-noto-cjk (installed by .ci/run); any one of these serves
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
             "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


def cjk_font() -> str | None:
    """The path of an installed CJK font, or None."""
    return next((f for f in CJK_FONTS if Path(f).is_file()), None)


def degrade(img, tilt: float = 0.6, blur: float = 0.6):
    """A printed-and-scanned look: grey, rotated by `tilt` degrees (white corners), blurred."""
    from PIL import ImageFilter

    img = img.convert("L")
    if tilt:
        img = img.rotate(tilt, resample=3, expand=False, fillcolor=255)   # 3: BICUBIC
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    return img


def pdf_to_scan(pdf: bytes, dpi: int = 200, tilt: float = 0.6, blur: float = 0.6) -> bytes:
    """An image-only PDF of `pdf`'s pages as scanned at `dpi`; the tilt alternates in sign
    from page to page (a sheet never lies the same way twice)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        images = []
        for i in range(len(doc)):
            page = doc[i]
            img = page.render(scale=dpi / 72, grayscale=True).to_pil()
            page.close()
            images.append(degrade(img, tilt if i % 2 == 0 else -tilt, blur))
    finally:
        doc.close()
    return images_to_pdf(images, dpi)


def images_to_pdf(images: list, dpi: int = 200) -> bytes:
    """Images as the pages of a PDF with no text layer (Pillow writes one JPEG per page)."""
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=dpi)
    return buf.getvalue()


def text_image(lines: list[str], font_path: str, size: int = 28, width: int = 1300,
               table: list[list[str]] | None = None, tilt: float = 0.0, blur: float = 0.0):
    """`lines` drawn as paragraphs (one per line, no wrapping), then `table` as a ruled
    grid, on a white page `width` pixels wide: about what a 150-200 dpi scan of a notice
    looks like."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(font_path, size)
    lead = int(size * 1.7)
    margin = 60
    rows = table or []
    row_h = int(size * 1.9)
    height = margin * 2 + lead * len(lines) + (row_h * len(rows) + lead if rows else 0)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    y = margin
    for line in lines:
        draw.text((margin, y), line, font=font, fill=0)
        y += lead
    if rows:
        y += lead // 2
        n = max(len(r) for r in rows)
        col_w = (width - 2 * margin) // n
        for r, row in enumerate(rows + [[]]):
            draw.line([(margin, y + r * row_h), (margin + n * col_w, y + r * row_h)], fill=0,
                      width=2)
        for k in range(n + 1):
            draw.line([(margin + k * col_w, y), (margin + k * col_w, y + len(rows) * row_h)],
                      fill=0, width=2)
        for r, row in enumerate(rows):
            for k, cell in enumerate(row):
                draw.text((margin + k * col_w + 12, y + r * row_h + (row_h - size) // 2 - 2),
                          cell, font=font, fill=0)
    return degrade(img, tilt, blur) if tilt or blur else img
