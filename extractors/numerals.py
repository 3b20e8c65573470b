"""The one number parser: every figure minsheng reports is read here.

Arabic figures (with thousands separators and decimals), Chinese numerals
(cn2an, only on spans a rule has matched: it rewrites words when run on whole
sentences), the scales 万/亿, and hedges (余, 多, 近, 约, 左右, 以上 ...) carried
as `approx` with a direction and the width of uncertainty they imply.
"""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

import cn2an

from pipeline.types import Quantity

_ARABIC_CHARS = set("0123456789.,")


class NumberError(ValueError):
    """A span that a rule matched as a number but that does not parse."""


def parse_plain(num: str) -> tuple[Decimal, int]:
    """A bare number as written -> (value, decimals written).

    >>> parse_plain("1,212.12")
    (Decimal('1212.12'), 2)
    >>> parse_plain("一千二百")
    (Decimal('1200'), 0)
    """
    s = num.strip()
    if not s:
        raise NumberError("empty number")
    if set(s) <= _ARABIC_CHARS:
        s = s.replace(",", "")
        try:
            value = Decimal(s)
        except InvalidOperation as e:
            raise NumberError(f"not a number: {num!r}") from e
        decimals = len(s.split(".", 1)[1]) if "." in s else 0
        return value, decimals
    if s == "百":                        # 百分之百: cn2an wants 一百
        s = "一百"
    try:
        out = cn2an.cn2an(s, "smart")
    except (ValueError, KeyError) as e:
        raise NumberError(f"not a Chinese numeral: {num!r}") from e
    value = Decimal(str(out))
    decimals = len(s.split("点", 1)[1]) if "点" in s else 0
    if value == value.to_integral_value() and decimals == 0:
        value = value.quantize(Decimal(1))
    return value, decimals


def _last_digit_unit(value: Decimal, decimals: int) -> Decimal:
    """The unit of the last non-zero written digit: 47000 -> 1000, 12.09 -> 0.01."""
    if decimals > 0:
        return Decimal(1).scaleb(-decimals)
    n = int(value)
    unit = 1
    while n and n % 10 == 0:
        n //= 10
        unit *= 10
    return Decimal(unit)


def parse_quantity(num: str, scale: str | None = None, hedges: tuple[str | None, ...] = (),
                   hedge_map: dict[str, str] | None = None,
                   scale_map: dict[str, int] | None = None) -> Quantity:
    """A matched figure -> Quantity.

    num: the digits or numeral; scale: 万, 亿 ... or None; hedges: the hedge
    words found around it (None entries ignored). hedge_map/scale_map come from
    rules/lexicon/hedges.yaml.

    >>> q = parse_quantity("47000", None, ("余",), {"余": "more"}, {})
    >>> (q.value, q.approx, q.direction, q.bounds())
    (Decimal('47000'), True, 'more', (Decimal('47000'), Decimal('48000')))
    >>> parse_quantity("12.09", "亿", (), {}, {"亿": 100000000}).bounds()
    (Decimal('1208500000.00'), Decimal('1209500000.00'))
    """
    hedge_map = hedge_map or {}
    scale_map = scale_map or {}
    value, decimals = parse_plain(num)
    if scale and scale not in scale_map:
        raise NumberError(f"unknown scale {scale!r}")
    mult = Decimal(scale_map[scale]) if scale else Decimal(1)
    words = [h for h in hedges if h]
    direction = None
    for w in words:
        d = hedge_map.get(w)
        if d is None:
            raise NumberError(f"unknown hedge {w!r}")
        direction = d if direction is None or direction == d else "around"
    if direction:
        # the width a hedge implies: a unit of the last non-zero digit (47000余: up to 48000);
        # 近 at most a tenth of the figure (近20亿: 18亿..20亿, not 10亿..20亿)
        step = _last_digit_unit(value, decimals)
        if direction == "less" and value:
            step = min(step, value / 10)
        step *= mult
    else:
        # a whole number of 万/亿 often drops its ".0" (完成投资3亿元 beside 年度计划31.4亿元):
        # it is read as rounded to a tenth of its scale, no coarser
        step = Decimal(1).scaleb(-max(decimals, 1 if scale else 0)) * mult
    return Quantity(
        value=value * mult,
        decimals=decimals,
        step=step,
        rounded=bool(scale),
        approx=bool(direction),
        direction=direction,
    )
