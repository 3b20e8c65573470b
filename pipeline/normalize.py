"""The coordinate system every offset refers to.

normalize(raw) gives the text written to OUT/texts/<doc>.txt: simplified script,
pinyin noise (實(shí)) removed, full-width ASCII folded to half-width, odd spaces
removed where they split a figure from its unit or one Han character from the
next. Every later stage works on this text only, so its offsets need no mapping.
Real parentheses ((PM10), (简称棚改申贷)) and tabs (table cells) are kept.
"""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import regex

# Pinyin with a tone mark right after a Han character: 實(shí), 會(huì ). Requiring a tone
# mark keeps real parenthesised words such as (NOX) or (a).
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# (after full-width folding, so （shí） is caught too; a space before it and a doubled note
# go with it)
PINYIN_NOISE = regex.compile(
    rf"(?<=\p{{Han}})(?:\s?\((?=[a-zü{_TONED}]*[{_TONED}ǖǘǚǜ])[a-zü{_TONED}]{{1,7}}\s?\))+", regex.V1)

# The same noise after a lossy re-encoding turned its tone marks into "?": 實(sh?)
PINYIN_LOST = regex.compile(r"(?<=\p{Han})(?:\s?\((?=[a-z]*\?)[a-z?]{1,7}\s?\))+", regex.V1)

# Spaces between two Han characters, or between a Han character and a digit (either
# order), are layout, not content ("2019 年", "4000 万元", "通 知"). Spaces between two
# digits or two Latin letters stay: they separate figures and words.
_SPACE = r"[ \u00a0\u2002\u2003\u2009\u200b\u3000]+"
HAN_SPACE = regex.compile(
    rf"(?<=[\p{{Han}}：:，,、（(“”）)%])({_SPACE})(?=[\p{{Han}}\d（(“])|(?<=[\p{{Han}}\d])({_SPACE})(?=[\p{{Han}}：:，,、%）)”])",
    regex.V1)

# Full-width ASCII (！ to ～) to half-width; the ideographic space to a space.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_FULLWIDTH[0xFFE5] = ord("¥")


@lru_cache(maxsize=1)
def _t2s():
    import opencc
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """OpenCC t2s, kept to the same length line by line (phrase conversion may change
    length; where it does, that line is converted one character at a time)."""
    conv = _t2s()
    out = conv.convert(text)
    if len(out) == len(text):
        return out
    lines = []
    for line in text.split("\n"):
        c = conv.convert(line)
        if len(c) != len(line):
            c = "".join(conv.convert(ch) if len(conv.convert(ch)) == 1 else ch for ch in line)
        lines.append(c)
    return "\n".join(lines)


def normalize(raw: str) -> str:
    """The normalized text of a document (see the module docstring)."""
    text = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_FULLWIDTH)
    text = PINYIN_NOISE.sub("", text)
    text = PINYIN_LOST.sub("", text)
    text = to_simplified(text)
    text = HAN_SPACE.sub("", text)
    # trailing spaces carry nothing and make lines look different from their twins
    text = regex.sub(r"[ \u00a0]+(?=\n|$)", "", text)
    return text
