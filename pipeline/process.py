"""The per-file work: one pure function of (file bytes, rules) -> DocResult.

Kept free of I/O and global state so a process pool, or an executor on Dask or
Ray, can run it unchanged.
"""
from __future__ import annotations

from pipeline.types import DocResult


def process(doc: str, name: str, data: bytes, rules: "Rules") -> DocResult:  # noqa: F821
    """Read, normalize, segment, extract, link and check one document.

    doc: the id written to the outputs (path relative to its INPUT, '/'-separated);
    name: the file name (its suffix picks the reader); data: the file's bytes.
    A file that cannot be read gives a DocResult whose document row has
    status 'failed' and a one-line error; it never raises for bad input.
    """
    raise NotImplementedError
