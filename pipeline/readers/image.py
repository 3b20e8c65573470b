"""Images (.png, .jpg, .tif; a multi-page TIFF is one document): every page by OCR
(readers/ocr.py), laid out as the PDF reader lays out its pages."""
from __future__ import annotations

import io

from pipeline.readers import ocr as ocr_reader
from pipeline.readers.pdf import _assemble, _drop_headers_footers
from pipeline.types import RawDoc, ReadError


def read(data: bytes, name: str = "", max_pages: int = 2000, ocr: bool = True) -> RawDoc:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    if not ocr:
        raise ReadError("image needs OCR to be read, and OCR is off (--no-ocr)")
    try:
        img = Image.open(io.BytesIO(data))
        fmt = (img.format or "image").lower()
        frames = [f.copy() for f in ImageSequence.Iterator(img)][:max_pages + 1]
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise ReadError(f"image cannot be decoded (damaged or not an image?): {e}") from None
    if len(frames) > max_pages:
        raise ReadError(f"image has more than {max_pages} pages (--max-pages)")
    pages = [ocr_reader.image_page(f) for f in frames]
    if not any(p.blocks for p in pages):
        raise ReadError("OCR found no text in the image (blank, or a picture)")
    _drop_headers_footers(pages)
    return RawDoc(text=_assemble(pages), format={"jpeg": "jpg", "tiff": "tif"}.get(fmt, fmt),
                  pages=len(pages),
                  ocr=ocr_reader.summary(pages, list(range(1, len(pages) + 1))))
