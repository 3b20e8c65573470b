"""Ingest: find input files, sniff their format, and read them into a RawDoc.

Every reader lives in pipeline/readers/<format>.py and exposes
read(data: bytes, name: str) -> RawDoc. Bad input always ends as a ReadError
with a one-line reason a person can act on; nothing else escapes read().
"""
from __future__ import annotations

import importlib
import os
from pathlib import Path

from pipeline.types import RawDoc, ReadError

# Document suffixes we look for inside folders (files given directly are always taken).
SUFFIXES = {".txt", ".text", ".csv", ".html", ".htm", ".shtml", ".xhtml", ".pdf",
            ".docx", ".xlsx", ".xlsm", ".xls", ".doc", ".wps", ".et",
            ".png", ".jpg", ".jpeg", ".tif", ".tiff"}          # images: read by OCR
IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"II*\x00", "tif"),
               (b"MM\x00*", "tif"))
DEFAULT_MAX_MB = 200
DEFAULT_MAX_PAGES = 2000

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _doc_id(rel: str) -> str:
    """A doc id that JSON can carry and that keeps names apart: a file-name byte that is
    not UTF-8 is written as \\xNN (report\\xff.txt), so report\\xff.txt and
    report\\xfe.txt stay two documents."""
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def find_inputs(paths: list[Path], skip: list[Path] | None = None,
                problems: dict[str, str] | None = None) -> list[tuple[str, Path]]:
    """All input documents under the given files and folders as (doc id, path), sorted.

    The doc id is the path relative to the INPUT it was found under ('/'-separated), or
    the file name for a file given directly; a second, different file with an id already
    taken (the same name under two INPUT folders) is named after its INPUT folder too
    (2020/a.txt), so no file is dropped. Hidden folders (.git, .cache) and `skip` folders
    (the run's own output) are not entered. Entries that cannot be read as documents are
    listed too, for the run to give each a failed row: a file-name link that loops or
    leads nowhere (found, its reason comes from reading it) and, in `problems` (doc id ->
    reason, with the entry's path in the list), a folder link that loops back to a
    folder being read and a folder that cannot be listed.
    """
    skip_real = {os.path.realpath(p) for p in (skip or [])}
    found: dict[str, Path] = {}
    real_of: dict[str, str] = {}          # doc id -> the real file, to tell repeats apart
    problems = problems if problems is not None else {}

    def add(doc: str, p: Path, top: Path) -> None:
        real = os.path.realpath(p)
        if doc in found:
            if real_of[doc] == real:
                return                    # the same file given twice
            base = f"{_doc_id(os.fsdecode(top.name)) or 'input'}/{doc}"
            doc, n = base, 2
            while doc in found:
                doc, n = f"{base}#{n}", n + 1
        found[doc] = p
        real_of[doc] = real

    for top in paths:
        top = Path(top)
        if top.is_file() or os.path.lexists(top) and not top.is_dir():
            add(_doc_id(os.fsdecode(top.name)), top, top.parent)   # reading says what it is
            continue
        if not top.is_dir():
            raise FileNotFoundError(f"input not found: {top}")

        def unlisted(e: OSError, top: Path = top) -> None:
            rel = os.fsdecode(os.path.relpath(e.filename, top)).replace(os.sep, "/")
            doc = _doc_id(rel) + "/"
            problems[doc] = (f"cannot list this folder ({e.strerror or e}): the documents "
                             "in it were not read")
            found.setdefault(doc, Path(e.filename))
            real_of.setdefault(doc, doc)

        # the folders being walked, by real path: a link to one of them (or to an
        # ancestor) is a loop, reported once; a link to a folder read elsewhere is not
        seen: dict[str, str] = {}
        for dirpath, dirnames, filenames in os.walk(top, followlinks=True, onerror=unlisted):
            real = os.path.realpath(dirpath)
            rel = os.fsdecode(os.path.relpath(dirpath, top)).replace(os.sep, "/")
            if real in skip_real:
                dirnames[:] = []
                continue
            if real in seen:
                dirnames[:] = []
                if _is_ancestor(real, os.path.realpath(os.path.dirname(dirpath))):
                    doc = _doc_id(rel) + "/"
                    problems[doc] = (f"symbolic link loop: leads back to the folder "
                                     f"{seen[real] or '.'} (read once, under that name)")
                    found.setdefault(doc, Path(dirpath))
                    real_of.setdefault(doc, doc)
                continue
            seen[real] = "" if rel == "." else _doc_id(rel)
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for fn in sorted(filenames):
                if fn.startswith(".") or Path(fn).suffix.lower() not in SUFFIXES:
                    continue
                p = Path(dirpath) / fn
                add(_doc_id(os.fsdecode(os.path.relpath(p, top)).replace(os.sep, "/")), p, top)
    return sorted(found.items())


def _is_ancestor(a: str, b: str) -> bool:
    """Whether real path a is b or a folder above it."""
    return b == a or b.startswith(a.rstrip(os.sep) + os.sep)


def sniff_format(name: str, data: bytes) -> str:
    """The reader to use: magic bytes first, then the suffix.

    Returns one of txt, html, pdf, docx, xlsx, xls, doc, zip, png, jpg, tif, bin.
    """
    suffix = Path(name).suffix.lower()
    head = data[:2048]
    for magic, fmt in IMAGE_MAGIC:
        if head.startswith(magic):
            return fmt
    if head.lstrip(b"\xef\xbb\xbf\r\n\t ")[:5] == b"%PDF-" or head[:1024].find(b"%PDF-") >= 0:
        return "pdf"
    if head[:4] == b"PK\x03\x04":
        return _sniff_zip(data, suffix)
    if head[:8] == _OLE2:
        if suffix in (".xls", ".et"):
            return "xls"
        return "xls" if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data[:65536] else "doc"
    low = head.lstrip(b"\xef\xbb\xbf\xff\xfe\r\n\t ").lower()
    if low.startswith((b"<!doctype html", b"<html", b"<?xml")) or (
            low.startswith(b"<") and b"<html" in data[:4096].lower()):
        return "html"
    if suffix in (".html", ".htm", ".shtml", ".xhtml") and b"<" in head:
        return "html"
    if suffix in (".pdf", ".docx", ".xlsx", ".xls", ".doc", ".wps"):
        return suffix[1:]   # the reader will say why these bytes are not that format
    if suffix in (".png", ".jpg", ".jpeg", ".tif", ".tiff"):
        return {".jpeg": "jpg", ".tiff": "tif"}.get(suffix, suffix[1:])
    return "txt"


def _sniff_zip(data: bytes, suffix: str) -> str:
    """A zip is docx if it holds word/, xlsx if xl/; anything else is not a document."""
    import io
    import zipfile
    try:
        names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return suffix[1:] if suffix in (".docx", ".xlsx") else "zip"
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return "zip"


_READERS = {"txt": "text", "html": "html", "pdf": "pdf", "docx": "docx",
            "xlsx": "xlsx", "xls": "xlsx", "png": "image", "jpg": "image", "tif": "image"}


def read(name: str, data: bytes, *, max_mb: float = DEFAULT_MAX_MB,
         max_pages: int = DEFAULT_MAX_PAGES, ocr: bool = True) -> RawDoc:
    """Read one file's bytes into a RawDoc; bad input raises ReadError, never anything else.
    ocr: read scanned PDF pages and images by OCR (False: refuse them)."""
    if not data:
        raise ReadError("empty file (0 bytes): nothing to read")
    if len(data) > max_mb * 1024 * 1024:
        raise ReadError(f"file is larger than the limit of {max_mb:g} MB (--max-mb)")
    fmt = sniff_format(name, data)
    if fmt in ("doc", "wps"):
        kind = "WPS .wps" if fmt == "wps" or name.lower().endswith(".wps") else "Word .doc"
        raise ReadError(f"legacy {kind} is not supported: save it as .docx and run again")
    if fmt == "zip":
        raise ReadError("zip archive that is not a .docx or .xlsx: unpack it and run on its files")
    if fmt == "bin":
        raise ReadError("binary data, not a document")
    module = importlib.import_module(f"pipeline.readers.{_READERS[fmt]}")
    try:
        if fmt == "pdf" or _READERS[fmt] == "image":
            return module.read(data, name, max_pages=max_pages, ocr=ocr)
        return module.read(data, name)
    except ReadError:
        raise
    except RecursionError:
        raise ReadError(f"{fmt} structure is nested too deeply to read") from None
    except MemoryError:
        raise ReadError(f"{fmt} file needs more memory than available to read") from None
    except Exception as e:  # a library failing on bad bytes: one readable line, not a traceback
        msg = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise ReadError(f"cannot read as {fmt} (damaged or not really {fmt}?): "
                        f"{type(e).__name__}: {msg}") from e
