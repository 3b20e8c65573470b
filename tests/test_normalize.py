"""pipeline/normalize.py: the coordinate system every offset refers to.

Tables of raw -> normalized text (pinyin noise, script, full-width forms, layout spaces),
what must stay (real parentheses, spaces between figures, tabs, newlines, mojibake),
idempotence as a hypothesis property, and the seeds (/work/shared/seeds) end to end.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.normalize import PINYIN_NOISE, normalize, to_simplified

SEEDS = Path("/work/shared/seeds")

# pinyin noise as a reader leaves it: a toned syllable in parentheses right after a
# Han character, half- or full-width, with or without a space inside or before it
NOISE_ANYWHERE = regex.compile(
    r"\p{Han}\s?[(（][a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ][a-zü]*\s?[)）]", regex.V1)
FULLWIDTH_DIGIT = regex.compile(r"[０-９]")


def _case(raw: str, want: str, id_: str):
    return pytest.param(raw, want, id=id_)


PINYIN = [
    _case("實(shí)施", "实施", "shi"),
    _case("會(huì )議", "会议", "hui-space-inside"),
    _case("1萬(wàn)元/張", "1万元/张", "wan-yuan"),
    _case("增長(zhǎng)", "增长", "zhang"),
    _case("綠(lǜ)化", "绿化", "lv-umlaut-tone"),
    _case("發(fā)展", "发展", "fa"),
    _case("養老事業(yè)和養老產(chǎn)業(yè)", "养老事业和养老产业", "two-in-a-row-of-words"),
]


@pytest.mark.parametrize("raw,want", PINYIN)
def test_normalize_removes_pinyin_noise(raw, want):
    assert normalize(raw) == want


KEPT_PARENS = [
    _case("可吸入颗粒物(PM10)", "可吸入颗粒物(PM10)", "PM10"),
    _case("氮氧化物(NOX)", "氮氧化物(NOX)", "NOX"),
    _case("棚户区改造(简称棚改申贷)", "棚户区改造(简称棚改申贷)", "jianchen"),
    _case("攀枝花市(含盐边县)", "攀枝花市(含盐边县)", "han-county"),
    _case("附件(a)", "附件(a)", "toneless-latin"),
    _case("的(de)", "的(de)", "toneless-syllable"),
    _case("（一）", "(一)", "fullwidth-label-folded-not-dropped"),
    _case("实(Shí)", "实(Shí)", "capitalised-not-noise"),
]


@pytest.mark.parametrize("raw,want", KEPT_PARENS)
def test_normalize_keeps_real_parentheses(raw, want):
    assert normalize(raw) == want


SCRIPT = [
    _case("這個項目已經開工", "这个项目已经开工", "sentence"),
    _case("養老機構床位", "养老机构床位", "words"),
    _case("歲", "岁", "one-char"),
    _case("已经开工", "已经开工", "already-simplified"),
]


@pytest.mark.parametrize("raw,want", SCRIPT)
def test_normalize_traditional_to_simplified(raw, want):
    assert normalize(raw) == want


WIDTH = [
    _case("２０１９年", "2019年", "digits"),
    _case("完成率１２９．６７％", "完成率129.67%", "decimal-percent"),
    _case("１０８％", "108%", "percent"),
    _case("一是，二是；三是：", "一是,二是;三是:", "comma-semicolon-colon"),
    _case("（ａ）", "(a)", "latin-in-parens"),
    _case("！？", "!?", "marks"),
    _case("￥800", "¥800", "yen"),
    _case("完成。", "完成。", "ideographic-full-stop-kept"),
    _case("、", "、", "enumeration-comma-kept"),
]


@pytest.mark.parametrize("raw,want", WIDTH)
def test_normalize_full_width_to_half_width(raw, want):
    assert normalize(raw) == want


SPACES = [
    _case("2019 年", "2019年", "digit-han"),
    _case("4000 万元", "4000万元", "figure-unit"),
    _case("2019\u3000年", "2019年", "ideographic-space"),
    _case("4000\u00a0万元", "4000万元", "nbsp"),
    _case("通 知", "通知", "han-han"),
    _case("完成 129.67 %", "完成129.67%", "around-a-percent"),
    _case("“ 民生 ”", "“民生”", "inside-quotes"),
    _case("截至 9 月", "截至9月", "both-sides"),
    _case("2660909 13593552729", "2660909 13593552729", "two-numbers-kept"),
    _case("PM 10", "PM 10", "latin-digit-kept"),
    _case("a  b", "a  b", "latin-latin-kept"),
    _case("年 \n", "年\n", "trailing-space"),
    _case("\u3000\u3000一、总体情况", "  一、总体情况", "leading-indent-kept"),
]


@pytest.mark.parametrize("raw,want", SPACES)
def test_normalize_layout_spaces(raw, want):
    assert normalize(raw) == want


def test_normalize_keeps_tabs_and_newlines():
    raw = "序号\t项目\t完成\n1\t就业\t389\n\n二、其他"
    assert normalize(raw) == raw


def test_normalize_line_endings_and_bom():
    assert normalize("\ufeff一、总体\r\n二、其他\r三、") == "一、总体\n二、其他\n三、"


def test_normalize_leaves_mojibake_alone():
    # a line of the 攀枝花 seed damaged before it reached us: nothing to repair, nothing
    # to drop; only the script conversion applies (歲 -> 岁), the '?' stays
    assert normalize("低?粘怖先撕80周歲以上") == "低?粘怖先撕80周岁以上"


def test_normalize_to_simplified_keeps_length():
    for raw in ["這個項目已經開工", "乾隆年間", "養老事業和養老產業\n頭髮", "后來"]:
        assert len(to_simplified(raw)) == len(raw)


# --- known failures: noise that survives one pass -------------------------------------

def test_normalize_removes_pinyin_noise_in_full_width_parentheses():
    assert normalize("實（shí）施") == "实施"


def test_normalize_removes_pinyin_noise_after_a_space():
    assert normalize("實 (shí)施") == "实施"


def test_normalize_removes_doubled_pinyin_noise():
    assert normalize("實(shí)(shí)") == "实"


# --- idempotence ------------------------------------------------------------------------

_HAN = "一二三十百千万亿年月日人元项个所完成率计划新建改造实事民生這個項目開會議萬養業歲"
_DIGITS = "0123456789０１２３"
_SPACE = [" ", " ", "\u3000", "\u00a0", "\u2003"]
_PUNCT = list("，。、：；！？,.:;%％()（）“”《》-/")
_TEXT = st.lists(
    st.one_of(st.sampled_from(list(_HAN)), st.sampled_from(list(_DIGITS)), st.sampled_from(_SPACE),
              st.sampled_from(_PUNCT), st.just("\t"), st.just("\n")),
    max_size=40).map("".join)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_normalize_is_idempotent(raw):
    once = normalize(raw)
    assert normalize(once) == once


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_normalize_output_has_no_full_width_digit_and_keeps_tabs_and_newlines(raw):
    out = normalize(raw)
    assert not FULLWIDTH_DIGIT.search(out)
    assert out.count("\t") == raw.count("\t")
    assert out.count("\n") == raw.count("\n")


# --- the seeds ----------------------------------------------------------------------------

def _seeds():
    if not SEEDS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{SEEDS} absent"))]
    files = sorted(SEEDS.glob("*.txt"))
    return [pytest.param(f, id=f.name) for f in files] or \
        [pytest.param(None, marks=pytest.mark.skip(reason="no seeds"))]


@pytest.mark.parametrize("path", _seeds())
def test_normalize_seed_has_no_noise_and_no_full_width_digit(path):
    raw = path.read_text(encoding="utf-8")
    out = normalize(raw)
    assert not NOISE_ANYWHERE.search(out), NOISE_ANYWHERE.search(out)
    assert not PINYIN_NOISE.search(out)
    assert not FULLWIDTH_DIGIT.search(out)
    assert normalize(out) == out
    assert out.count("\n") == raw.replace("\r\n", "\n").count("\n")
