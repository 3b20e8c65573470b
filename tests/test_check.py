"""pipeline/check.py: ratio and sum arithmetic in Decimal, rounding decided in one place.

Quantities are built by the one parser (parse_quantity) so each case carries the
precision and hedge of the figure as written; sum verdicts go through Checker.sum on
hand-built SumGroup/Fact objects.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from extractors.numerals import parse_quantity
from pipeline.check import Checker, dedupe_ratios, display, ratio_consistent, window
from pipeline.link import RatioGroup, SumGroup
from pipeline.operands import Reading
from pipeline.rules import load
from pipeline.segment import segment
from pipeline.types import Check, Fact, Quantity

D = Decimal
RULES = load()
CONF = RULES.extra["segment"]


def q(written: str) -> Quantity:
    """A figure as a report writes it: '47000余', '12.09亿', '60以上', '近20亿', '129.67'."""
    pre = next((h for h in ("近", "约") if written.startswith(h)), None)
    body = written[len(pre):] if pre else written
    post = next((h for h in ("以上", "左右", "余", "多") if body.endswith(h)), None)
    body = body[: -len(post)] if post else body
    scale = next((s for s in ("亿", "万") if body.endswith(s)), None)
    body = body[: -len(scale)] if scale else body
    return parse_quantity(body, scale, (pre, post), RULES.hedges, RULES.scales)


# --- window: the true values a reported percentage may stand for ----------------------------

@pytest.mark.parametrize("reported,low,high", [
    ("129.67", D("129.665"), D("129.68")),    # rounded half up from >= .665, truncated from < .68
    ("46.6", D("46.55"), D("46.7")),
    ("135", D("134.5"), D("136")),
    ("60以上", D("59.5"), None),               # more: no upper limit
    ("近60", D(0), D(61)),                     # less: anything up to the figure (truncated)
    ("约60", D(50), D(70)),                    # around: one unit of its last non-zero digit
])
def test_check_window(reported, low, high):
    assert window(q(reported)) == (low, high)


# --- ratio_consistent ---------------------------------------------------------------------------

RATIOS = [
    # numerator, denominator, reported, consistent
    ("389", "300", "129.67", True),            # 129.666..: rounded
    ("7988", "6125", "130.52", False),         # 130.416..: neither rounded nor truncated
    ("7988", "6125", "130.42", True),
    ("27", "58", "46.6", True),                # 46.5517: rounded half up
    ("27", "58", "46.5", True),                # 46.5517: truncated
    ("27", "58", "46.4", False),
    ("27", "58", "46.7", False),
    ("9746.50万", "9759.38万", "99.86", True),   # 99.8680..: truncated
    ("9746.50万", "9759.38万", "99.87", True),   # rounded
    ("9746.50万", "9759.38万", "99.88", False),
    ("9746.50万", "9759.38万", "99.85", False),
    # 47000余 of 35000: the counts allow 47000..48000 -> 134.29%..137.14%
    ("47000余", "35000", "135", True),
    ("47000余", "35000", "137", True),
    # 134 is consistent too: 47000/35000 = 134.2857 rounds to 134 (GOLD.md: some allowed
    # value, rounded or truncated). What the hedge cannot give is anything below 134.29:
    ("47000余", "35000", "134", True),
    ("47000余", "35000", "133", False),
    ("47000余", "35000", "138", False),
    # the same counts without 余 are a point: 134.2857 only
    ("47000", "35000", "135", False),
    # 12.09亿 stands for 12.085亿..12.095亿: of 1200000000 (a plan, as written) that is
    # 100.708%..100.792%
    ("12.09亿", "1200000000", "100.71", True),
    ("12.09亿", "1200000000", "100.79", True),
    ("12.09亿", "1200000000", "100.75", True),       # the point value itself
    ("12.09亿", "1200000000", "100.80", False),
    ("12.09亿", "1200000000", "100.70", True),       # 100.7083 truncated
    ("12.09亿", "1200000000", "100.69", False),
    # 3亿 beside 31.4亿 has dropped its ".0": 2.95亿..3.05亿, 9.39%..9.71% of 31.4亿
    ("3亿", "31.4亿", "9.4", True),
    ("3亿", "31.4亿", "9.8", False),
    # a reported "60%以上": any true value that shows as 60 or more
    ("130", "200", "60以上", True),            # 65%
    ("1192", "2000", "60以上", True),          # 59.6% rounds to 60
    ("1188", "2000", "60以上", False),         # 59.4%
    ("110", "200", "60以上", False),           # 55%
    # a denominator that may be zero can not be checked: neither verdict
    ("5", "0", "100", None),
]


@pytest.mark.parametrize("num,den,reported,ok", RATIOS, ids=[f"{n}/{d}={r}" for n, d, r, _ in RATIOS])
def test_check_ratio_consistent(num, den, reported, ok):
    assert ratio_consistent(q(num), q(den), q(reported)) is ok


def test_check_ratio_rounded_count_needs_its_interval():
    # 12.09亿 read as an exact point gives only 100.75%: 100.71 would be inconsistent
    point = Quantity(value=D("12.09") * 10 ** 8, decimals=2)
    assert ratio_consistent(point, q("1200000000"), q("100.71")) is False
    assert ratio_consistent(q("12.09亿"), q("1200000000"), q("100.71")) is True


def test_check_display_two_more_decimals_half_up():
    assert display(D(389) / D(300) * 100, 2) == D("129.6667")
    assert display(D(27) / D(58) * 100, 1) == D("46.552")
    assert display(D("12.5"), 0) == D("12.50")


# --- Checker.ratio and Checker.sum on hand-built groups ---------------------------------------

TEXT = "全市新增就业389人，为年度目标300人的129.67%。合计7285人，其中300人、6125人、865人。"
LAYOUT = segment(TEXT, CONF)


def fact(written: str, kind: str = "count", unit: str | None = "人", project: str | None = "就业",
         anchor: str | None = None) -> Fact:
    """A fact over the first occurrence of `anchor` (default: written) in TEXT."""
    quantity = q(written)
    anchor = anchor or written
    start = TEXT.find(anchor)
    start = 0 if start < 0 else start
    value = D(written.rstrip("以上余多")) if kind == "percent" else quantity.value
    return Fact(doc="d", kind=kind, value=value, unit=unit, approx=quantity.approx, text=written,
                start=start, end=start + len(anchor), project=project, quantity=quantity)


def checker() -> Checker:
    return Checker("d", TEXT, LAYOUT)


def test_check_checker_ratio_consistent_with_computed_and_evidence():
    g = RatioGroup(percent=fact("129.67", "percent", "%"), numerator=fact("389"),
                   denominator=fact("300"), rule="test.ratio")
    c = checker().ratio(g)
    assert (c.kind, c.verdict) == ("ratio", "consistent")
    assert (c.reported, c.numerator, c.denominator) == (D("129.67"), D(389), D(300))
    assert c.computed == D("129.6667")
    assert c.discrepancy == D("0.0033")
    assert c.evidence == "全市新增就业389人，为年度目标300人的129.67%。"
    assert TEXT[c.start:c.end] == c.evidence
    assert c.project == "就业" and c.rule == "test.ratio"
    assert all(isinstance(x, Decimal) for x in (c.reported, c.computed, c.discrepancy))


def test_check_checker_ratio_inconsistent_gives_a_reason():
    g = RatioGroup(percent=fact("130.52", "percent", "%", anchor="129.67"), numerator=fact("7988", anchor="389"),
                   denominator=fact("6125", anchor="300"), rule="test.ratio", firm=True)
    c = checker().ratio(g)
    assert c.verdict == "inconsistent"
    assert c.computed == D("130.4163")
    assert "130.4163" in c.reason and "2 decimals" in c.reason


def test_check_a_reading_the_wording_does_not_tie_is_no_alarm():
    g = RatioGroup(percent=fact("130.52", "percent", "%", anchor="129.67"), numerator=fact("7988", anchor="389"),
                   denominator=fact("6125", anchor="300"), rule="test.ratio", firm=False)
    c = checker().ratio(g)
    assert c.verdict == "unverifiable" and c.computed == D("130.4163")
    assert "does not tie" in c.reason


def test_check_takes_the_first_reading_under_which_the_rate_follows():
    # the wording's reading (7988/6125) fails; a structural one (389/300) gives 129.67%
    pct = fact("129.67", "percent", "%")
    alt = Reading(fact("389"), fact("300"), "clause")
    g = RatioGroup(percent=pct, numerator=fact("7988", anchor="389"), denominator=fact("6125", anchor="300"),
                   rule="test.ratio", firm=True, readings=[Reading(fact("300"), fact("389"), "sentence"), alt])
    c = checker().ratio(g)
    assert (c.verdict, c.numerator, c.denominator, c.rule) == ("consistent", D(389), D(300), "clause")
    assert "read as 389/300 (clause)" in c.reason and "tried 2 other" in c.reason


@pytest.mark.parametrize("missing", ["numerator", "denominator", "zero"])
def test_check_checker_ratio_unverifiable_without_both_counts(missing):
    num = None if missing == "numerator" else fact("389")
    den = None if missing == "denominator" else fact("0" if missing == "zero" else "300")
    c = checker().ratio(RatioGroup(percent=fact("129.67", "percent", "%"), numerator=num,
                                   denominator=den, rule="test.ratio"))
    assert c.verdict == "unverifiable"
    assert c.computed is None


def sumcheck(total: str, parts: list[str] | list[tuple[str, int]], **kw) -> Check:
    ps = [(fact(p), 1) if isinstance(p, str) else (fact(p[0]), p[1]) for p in parts]
    kw.setdefault("complete", False)
    return checker().sum(SumGroup(total=fact(total), parts=ps, rule="test.sum", **kw))


def test_check_sum_exact_equal_is_consistent():
    c = sumcheck("7290", ["300", "6125", "865"], complete=True)
    assert (c.kind, c.verdict) == ("sum", "consistent")
    assert c.computed == D(7290) and c.discrepancy == D(0)
    assert c.parts == [D(300), D(6125), D(865)]


def test_check_sum_rounded_parts_are_consistent_by_their_intervals():
    # 0.92亿 + 0.96亿 = 1.88亿, not 1.87亿 as points. But each figure written to 0.01亿
    # stands for an interval: 0.915..0.925 + 0.955..0.965 = 1.870..1.890 亿, and the total
    # 1.87亿 stands for 1.865..1.875 亿. The intervals meet (at 1.870..1.875): a report
    # that rounded each part and the total from exact yuan can print exactly these figures.
    c = sumcheck("1.87亿", ["0.92亿", "0.96亿"], complete=True)
    assert c.verdict == "consistent"
    assert c.computed == D("1.88") * 10 ** 8
    assert c.discrepancy == D("0.01") * 10 ** 8


def test_check_sum_rounded_parts_too_far_apart_are_inconsistent():
    # 1.85亿 stands for 1.845..1.855亿: the parts can not be below 1.870亿
    c = sumcheck("1.85亿", ["0.92亿", "0.96亿"], complete=True)
    assert c.verdict == "inconsistent"


def test_check_sum_complete_and_off_is_inconsistent():
    c = sumcheck("7285", ["300", "6125", "865"], complete=True)
    assert c.verdict == "inconsistent"
    assert (c.reported, c.computed, c.discrepancy) == (D(7285), D(7290), D(5))
    assert c.reason == "the parts add up to 7290, not 7285"


def test_check_sum_under_sum_of_an_open_list_is_unverifiable():
    c = sumcheck("7285", ["300", "6125"], complete=False, reason="其中: may list only some parts")
    assert c.verdict == "unverifiable"
    assert c.reason == "其中: may list only some parts (they add up to 6425)"


def test_check_sum_over_sum_without_over_is_error_is_unverifiable():
    c = sumcheck("7285", ["300", "6125", "865"], complete=False)
    assert c.verdict == "unverifiable"
    assert c.reason == "the parts may not be all of the total (they add up to 7290)"


def test_check_sum_over_sum_with_over_is_error_is_inconsistent():
    c = sumcheck("7285", ["300", "6125", "865"], complete=False, over_is_error=True)
    assert c.verdict == "inconsistent"


def test_check_sum_under_sum_with_over_is_error_stays_unverifiable():
    c = sumcheck("7285", ["300", "6125"], complete=False, over_is_error=True)
    assert c.verdict == "unverifiable"


def test_check_sum_prefix_ok_stops_at_the_total():
    c = sumcheck("8", ["2", "6", "2"], complete=False, prefix_ok=True)
    assert c.verdict == "consistent"
    assert c.parts == [D(2), D(6)]
    assert (c.computed, c.discrepancy) == (D(8), D(0))


def test_check_sum_prefix_of_one_part_is_not_a_sum():
    c = sumcheck("2", ["2", "6", "2"], complete=False, prefix_ok=True)
    assert c.verdict == "unverifiable"


def test_check_sum_each_part_counts_n_times():
    # 各30万元 for 3 places: parts [30, 30, 30]
    c = sumcheck("90", [("30", 3)], complete=True)
    assert c.verdict == "consistent"
    assert c.parts == [D(30), D(30), D(30)]


def test_check_sum_hedged_total():
    # 7000余 allows 7000..8000
    assert sumcheck("7000余", ["300", "6125", "865"], complete=True).verdict == "consistent"
    assert sumcheck("近7000", ["300", "6125", "865"], complete=True).verdict == "inconsistent"


def test_check_sum_prefix_ok_uses_rounding_intervals():
    c = sumcheck("1.87亿", ["0.92亿", "0.96亿", "0.5亿"], complete=False, prefix_ok=True)
    assert c.verdict == "consistent"
    assert c.parts == [D("0.92") * 10 ** 8, D("0.96") * 10 ** 8]


# --- dedupe_ratios --------------------------------------------------------------------------------

def chk(verdict: str, reported: str = "129.67", project: str | None = "就业", num: int = 389,
        den: int = 300, start: int = 0) -> Check:
    return Check(doc="d", kind="ratio", verdict=verdict, reported=D(reported), computed=None,
                 evidence="", start=start, end=start + 1, numerator=D(num), denominator=D(den),
                 project=project)


def test_check_dedupe_ratios_keeps_the_verifiable_twin():
    a, b = chk("unverifiable", start=0), chk("consistent", start=10)
    assert dedupe_ratios([a, b]) == [b]
    assert dedupe_ratios([b, a]) == [b]


def test_check_dedupe_ratios_keeps_the_first_of_two_verified_twins():
    a, b = chk("consistent", start=0), chk("inconsistent", start=10)
    assert dedupe_ratios([a, b]) == [a]


def test_check_dedupe_ratios_keeps_other_projects_and_values():
    a, b, c = chk("consistent"), chk("consistent", project="教育"), chk("consistent", reported="99.5")
    assert dedupe_ratios([a, b, c]) == [a, b, c]


def test_check_dedupe_ratios_keeps_twins_with_different_counts():
    a = chk("consistent", reported="100", project=None, num=3, den=3)
    b = chk("inconsistent", reported="100", project=None, num=9, den=10, start=10)
    assert dedupe_ratios([a, b]) == [a, b]


def test_check_ratio_with_a_near_denominator():
    assert ratio_consistent(q("9万"), q("近10万"), q("90")) is True


def test_a_list_that_nests_a_breakdown_is_no_error():
    from pipeline.check import _nested
    assert _nested([D(14), D(1), D(13), D(67)])             # 14 = 1 + 13
    assert not _nested([D(5), D(4), D(3), D(3)] + [D(1)] * 14)   # 3 = 1+1+1 is too small to tell
    assert not _nested([D(20), D(30), D(50)])


def test_a_rate_the_paragraph_restates_with_counts_that_hold_is_no_error():
    from pipeline.process import process
    text = "康复救助残疾儿童任务180人,完成284人,完成率137%。按月计,任务1440人次,完成1970人次,完成率137%。"
    checks = process("a.txt", "a.txt", text.encode("utf-8"), load()).checks
    rates = [c for c in checks if c.kind == "ratio" and c.reported == D(137)]
    assert any(c.verdict == "consistent" and (c.numerator, c.denominator) == (D(1970), D(1440)) for c in rates)
    assert not any(c.verdict == "inconsistent" for c in rates)
