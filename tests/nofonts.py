"""Run Python as on a machine without fonts, as far as PDF reading goes:

    python tests/nofonts.py -m pipeline.cli run FILES -o OUT
    python tests/nofonts.py script.py ARGS

pdfium scans the system font folders itself (not through fontconfig), so hiding
fonts-noto-cjk from it means starting it again with an empty folder as its only font
path; it then substitutes its built-in Latin fonts for any font a PDF does not embed."""
from __future__ import annotations

import ctypes
import runpy
import sys
import tempfile


def hide_system_fonts() -> None:
    """Restart pdfium in this process with no system fonts (before any document opens)."""
    import pypdfium2.raw as c
    from pypdfium2 import _library_scope
    from pypdfium2.internal import bases

    _library_scope.destroy_lib()
    empty = tempfile.mkdtemp(prefix="nofonts-")
    path = ctypes.cast(ctypes.c_char_p(empty.encode()), ctypes.POINTER(ctypes.c_char))
    global _PATHS              # pdfium keeps the pointer: it must outlive the call
    _PATHS = (ctypes.POINTER(ctypes.c_char) * 2)(path, None)
    c.FPDF_InitLibraryWithConfig(c.FPDF_LIBRARY_CONFIG(
        version=2, m_pUserFontPaths=_PATHS, m_pIsolate=None, m_v8EmbedderSlot=0))
    bases.LIBRARY_AVAILABLE = True


if __name__ == "__main__":
    hide_system_fonts()
    args = sys.argv[1:]
    if args[:1] == ["-m"]:
        sys.argv = [args[1], *args[2:]]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = args
        runpy.run_path(args[0], run_name="__main__")
