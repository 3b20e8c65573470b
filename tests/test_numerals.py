"""extractors/numerals.py: the one number parser.

Tables of figures as reports write them (Arabic, separators, 万/亿, Chinese numerals,
hedges) against the Decimal value, written precision and interval they stand for,
plus hypothesis round trips (number -> written form -> parse_plain/parse_quantity).
"""
from __future__ import annotations

from decimal import Decimal

import cn2an
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from extractors.numerals import NumberError, parse_plain, parse_quantity
from pipeline.rules import load
from pipeline.types import Quantity

D = Decimal
RULES = load()
HEDGES, SCALES = RULES.hedges, RULES.scales
YI, WAN = D(100000000), D(10000)


def q(num: str, scale: str | None = None, *hedges: str) -> Quantity:
    return parse_quantity(num, scale, hedges, HEDGES, SCALES)


# --- parse_plain: a bare number -> (value, decimals written) -----------------------------

PLAIN = [
    # written,        value,              decimals
    ("1,212.12", D("1212.12"), 2),
    ("129.67", D("129.67"), 2),
    ("0.31", D("0.31"), 2),
    ("300", D(300), 0),
    ("12,345,678.9", D("12345678.9"), 1),
    ("1,212", D(1212), 0),
    ("46.50", D("46.50"), 2),          # a written trailing zero is precision, kept
    (" 389 ", D(389), 0),              # surrounding spaces are not part of the figure
    ("两万", D(20000), 0),
    ("一千二百", D(1200), 0),
    ("十三", D(13), 0),
    ("十", D(10), 0),
    ("三十五点五", D("35.5"), 1),
    ("十二点零五", D("12.05"), 2),
    ("零点五", D("0.5"), 1),
    ("一万二千", D(12000), 0),
    ("一万二", D(12000), 0),           # colloquial: 一万二 is 12000
    ("三千五", D(3500), 0),
    ("一百零一", D(101), 0),
    ("两千零五十", D(2050), 0),
    ("十万零五", D(100005), 0),
    ("二十万", D(200000), 0),
    ("三亿五千万", D(350000000), 0),
]


@pytest.mark.parametrize("written,value,decimals", PLAIN, ids=[p[0].strip() for p in PLAIN])
def test_numerals_parse_plain_value_and_decimals(written, value, decimals):
    got, dec = parse_plain(written)
    assert type(got) is Decimal
    assert got == value
    assert dec == decimals


@pytest.mark.parametrize("written", ["", "  ", "1.2.3", "abc", "万", "点五", "1e5", "NaN"])
def test_numerals_parse_plain_rejects_non_numbers_with_number_error(written):
    with pytest.raises(NumberError):
        parse_plain(written)


def test_numerals_number_error_is_a_value_error():
    assert issubclass(NumberError, ValueError)


# --- parse_quantity: scale, precision and interval ---------------------------------------

SCALED = [
    # num,    scale, value,                    decimals, step,          rounded, bounds
    ("1.25", "万", D(12500), 2, D(100), True, (D(12450), D(12550))),
    ("12.09", "亿", D("12.09") * YI, 2, D("0.01") * YI, True,
     (D("12.085") * YI, D("12.095") * YI)),
    ("166.3", "亿", D("166.3") * YI, 1, D("0.1") * YI, True,
     (D("166.25") * YI, D("166.35") * YI)),
    ("464.9", "万", D(4649000), 1, D(1000), True, (D(4648500), D(4649500))),
    ("9746.50", "万", D(97465000), 2, D(100), True, (D(97464950), D(97465050))),
    # a whole number of 万/亿 has often dropped its ".0" (3亿 beside 31.4亿): rounded to a
    # tenth of its scale, no coarser
    ("12", "亿", D(12) * YI, 0, D("0.1") * YI, True, (D("11.95") * YI, D("12.05") * YI)),
    ("800", None, D(800), 0, D(1), False, (D(800), D(800))),
    ("129.67", None, D("129.67"), 2, D("0.01"), False, (D("129.67"), D("129.67"))),
    ("两", "万", D(20000), 0, D("0.1") * WAN, True, (D(19500), D(20500))),
    ("十二点零九", "亿", D("12.09") * YI, 2, D("0.01") * YI, True,
     (D("12.085") * YI, D("12.095") * YI)),
    ("1.5", "万亿", D("1.5") * 10 ** 12, 1, D("0.1") * 10 ** 12, True,
     (D("1.45") * 10 ** 12, D("1.55") * 10 ** 12)),
]


@pytest.mark.parametrize("num,scale,value,decimals,step,rounded,bounds", SCALED,
                         ids=[f"{s[0]}{s[1] or ''}" for s in SCALED])
def test_numerals_parse_quantity_scale_and_bounds(num, scale, value, decimals, step, rounded, bounds):
    got = q(num, scale)
    assert type(got.value) is Decimal and type(got.step) is Decimal
    assert got.value == value
    assert got.decimals == decimals
    assert got.step == step
    assert got.rounded is rounded
    assert got.approx is False and got.direction is None
    lo, hi = got.bounds()
    assert type(lo) is Decimal and type(hi) is Decimal
    assert (lo, hi) == bounds


HEDGED = [
    # num,  scale, hedges,          value,        direction, bounds
    ("47000", None, ("余",), D(47000), "more", (D(47000), D(48000))),
    ("47000", None, ("多",), D(47000), "more", (D(47000), D(48000))),
    ("18", "亿", ("约",), D(18) * YI, "around", (D(17) * YI, D(19) * YI)),
    ("18", "亿", ("左右",), D(18) * YI, "around", (D(17) * YI, D(19) * YI)),
    ("100", "亿", ("以上",), D(100) * YI, "more", (D(100) * YI, D(200) * YI)),
    ("60", None, ("以上",), D(60), "more", (D(60), D(70))),
    ("1.25", "万", ("余",), D(12500), "more", (D(12500), D(12600))),
    ("3", None, ("不足",), D(3), "less", (D("2.7"), D(3))),   # 近/不足: at most a tenth below
    # two hedges pointing different ways: either side
    ("3", None, ("多", "左右"), D(3), "around", (D(2), D(4))),
    # the same direction twice stays that direction; None entries are ignored
    ("5", "万", ("超过", None, "余"), D(50000), "more", (D(50000), D(60000))),
]


@pytest.mark.parametrize("num,scale,hedges,value,direction,bounds", HEDGED,
                         ids=[f"{h[0]}{h[1] or ''}{''.join(x or '' for x in h[2])}" for h in HEDGED])
def test_numerals_parse_quantity_hedges(num, scale, hedges, value, direction, bounds):
    got = q(num, scale, *hedges)
    assert got.value == value
    assert got.approx is True
    assert got.direction == direction
    assert got.bounds() == bounds


def test_numerals_near_20yi_is_less_with_its_upper_bound_at_the_figure():
    got = q("20", "亿", "近")
    assert (got.value, got.approx, got.direction) == (D(20) * YI, True, "less")
    assert got.bounds()[1] == D(20) * YI
    assert got.bounds()[0] < D(20) * YI


def test_numerals_near_20yi_bounds_as_documented_in_hedges_yaml():
    assert q("20", "亿", "近").bounds() == (D(18) * YI, D(20) * YI)   # a tenth below at most


def test_numerals_every_hedge_in_the_lexicon_parses():
    for word, direction in HEDGES.items():
        got = q("10", None, word)
        assert got.direction == direction, word
        assert got.approx


def test_numerals_unknown_hedge_is_a_number_error():
    with pytest.raises(NumberError, match="unknown hedge"):
        q("10", None, "大概")


def test_numerals_unknown_scale_is_a_number_error():
    with pytest.raises(NumberError, match="unknown scale"):
        parse_quantity("1", "千", (), {}, {"万": 10000})


def test_numerals_parse_quantity_without_maps_reads_a_plain_figure():
    got = parse_quantity("389")
    assert got == Quantity(value=D(389), decimals=0, step=D(1))


# --- hypothesis round trips -----------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10 ** 8))
def test_numerals_chinese_integer_round_trip(v):
    written = cn2an.an2cn(v)
    value, decimals = parse_plain(written)
    assert type(value) is Decimal
    assert value == v
    assert decimals == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=100, max_value=10 ** 10), st.integers(min_value=1, max_value=2))
def test_numerals_chinese_decimal_round_trip(cents, places):
    # values 1.00 .. 10^8 with one or two decimals, written 一点零五 etc.
    v = D(cents).scaleb(-2).quantize(D(1).scaleb(-places))
    written = cn2an.an2cn(str(v))
    value, decimals = parse_plain(written)
    assert type(value) is Decimal
    assert value == v
    written_decimals = len(written.split("点", 1)[1]) if "点" in written else 0
    assert decimals == written_decimals


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10 ** 8), st.integers(min_value=0, max_value=4),
       st.sampled_from(["万", "亿"]))
def test_numerals_arabic_with_scale_round_trip(mantissa, places, scale):
    # mantissa / 10^places written in Arabic with its scale: "12.09亿", "1.25万", "3万"
    written = D(mantissa).scaleb(-places)
    text = f"{written:f}"
    got = q(text, scale)
    expected = D(mantissa) * D(SCALES[scale]).scaleb(-places)
    assert type(got.value) is Decimal
    assert got.value == expected
    assert got.decimals == places
    assert got.rounded is True
    lo, hi = got.bounds()
    assert lo <= got.value <= hi
    assert hi - lo == D(SCALES[scale]).scaleb(-max(places, 1))


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10 ** 12), st.integers(min_value=0, max_value=2))
def test_numerals_thousands_separated_round_trip(whole, places):
    frac = f".{whole % 100:02d}"[: places + 1] if places else ""
    text = f"{whole:,}{frac}"
    value, decimals = parse_plain(text)
    assert type(value) is Decimal
    assert value == D(f"{whole}{frac}")
    assert decimals == places


def test_numerals_bare_hundred_is_one_hundred():
    """百分之百: the rule hands the parser 百 alone."""
    assert parse_plain("百") == (D(100), 0)
