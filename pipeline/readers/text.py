"""Plain text: detect the encoding (never assume it), decode, normalise line ends."""
from __future__ import annotations

import re

from pipeline.readers import flat_tables
from pipeline.types import RawDoc, ReadError

_BOMS = [  # longest first: a UTF-32-LE BOM starts with the UTF-16-LE one
    (b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8-sig"), (b"\xfe\xff", "utf-16-be"), (b"\xff\xfe", "utf-16-le"),
]
# Candidates for text that is not UTF-8. GB18030 is a superset of GB2312 and GBK.
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be", "cp1252"]
_CHINESE = {"gb18030", "big5", "utf_16_le", "utf_16_be"}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_C1 = re.compile(r"[\x80-\x9f]")
_BAD_CTRL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_SAMPLE = 200_000   # bytes looked at for detection: enough, and keeps 9 MB files fast


def read(data: bytes, name: str = "") -> RawDoc:
    text, encoding, warnings = decode(data)
    return RawDoc(text=flat_tables.rebuild(clean_lines(text)), format="txt", encoding=encoding,
                  warnings=warnings)


def clean_lines(text: str) -> str:
    """One line end convention; form feeds (page breaks) become line breaks."""
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """(text, encoding, warnings) or ReadError: BOM, strict UTF-8, then detection."""
    if not data:
        raise ReadError("empty file (0 bytes): nothing to read")
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return _check_text(data.decode(enc)), enc, []
            except UnicodeDecodeError:
                raise ReadError(f"file starts with a {enc} byte-order mark but is not valid "
                                f"{enc}: re-save it as UTF-8") from None
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return _check_text(data.decode(utf16)), utf16, []
        except UnicodeDecodeError:
            pass
    try:
        return _check_text(data.decode("utf-8")), "utf-8", []
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:_SAMPLE]:
        raise ReadError("binary data, not a document (it contains NUL bytes)")
    return _detect(data)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM shows NULs in every other byte for ASCII-heavy text."""
    sample = data[:4000]
    if len(sample) < 4 or sample.count(0) < len(sample) // 4:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > 3 * max(even, 1):
        return "utf-16-le"
    if even > 3 * max(odd, 1):
        return "utf-16-be"
    return None


def _detect(data: bytes) -> tuple[str, str, list[str]]:
    """charset-normalizer among the Chinese encodings (and cp1252), then a plausibility check."""
    from charset_normalizer import from_bytes

    sample = data[:_SAMPLE]
    # cut the sample at a line end so a multi-byte character is not split
    if len(data) > _SAMPLE and b"\n" in sample[-4096:]:
        sample = sample[: sample.rindex(b"\n") + 1]
    matches = from_bytes(sample, cp_isolation=_CANDIDATES, explain=False)
    tried = []
    for m in matches:
        enc = m.encoding
        tried.append(enc)
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        reason = _implausible(text, enc)
        if reason is None:
            warnings = []
            if enc == "cp1252":
                warnings.append("decoded as Windows-1252 (Western European), not Chinese")
            return _check_text(text), _name(enc), warnings
    raise ReadError("cannot tell the text encoding (tried "
                    f"{', '.join(tried) or 'UTF-8, GB18030, Big5, UTF-16'}): "
                    "re-save the file as UTF-8 and run again")


def _name(enc: str) -> str:
    return enc.replace("_", "-")


def _implausible(text: str, enc: str) -> str | None:
    """Why a decoding is not believable, or None: Chinese encodings must give mostly CJK
    among the non-ASCII characters and no C1 control characters."""
    sample = text[:100_000]
    if _C1.search(sample):
        return "C1 control characters"
    if enc in _CHINESE:
        non_ascii = sum(1 for c in sample if ord(c) > 0x7F)
        cjk = len(_CJK.findall(sample))
        if non_ascii and cjk < 0.5 * non_ascii:
            return "few CJK characters"
    return None


def _check_text(text: str) -> str:
    """Text with NULs or many control characters is binary data that happened to decode."""
    sample = text[:100_000]
    if "\x00" in sample or len(_BAD_CTRL.findall(sample)) > max(2, len(sample) // 100):
        raise ReadError("binary data, not a document (too many control characters)")
    return text.lstrip("\ufeff")
