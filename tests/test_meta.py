"""extractors/meta.py: rule examples from rules/meta.yaml, the five seeds against their
gold metadata, and hand-made tricky cases (county report, 20XX, milestone notice)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import opencc
import pytest
import regex
import yaml

from extractors.meta import (detect_script, extract_meta, extract_year, find_period_cues,
                             heading_year, load_rules, locate, period_end, place_mentions,
                             rules_dir, strip_boilerplate)

SEEDS = Path("/work/shared/seeds")
GOLD = Path("/work/shared/gold")
_T2S = opencc.OpenCC("t2s")
_NOISE = regex.compile(r'(?<=\p{Han})\((?:[a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+)\s*\)')


def normalize(raw: str) -> str:
    """What the normalize stage does before meta: drop pinyin noise, convert t2s."""
    return _T2S.convert(_NOISE.sub("", raw))


RAW = yaml.safe_load((rules_dir() / "meta.yaml").read_text(encoding="utf-8"))


def _cases(section: str, entries: list[dict[str, Any]]) -> tuple[list, list]:
    ex, counter = [], []
    for e in entries:
        for i, x in enumerate(e.get("examples", [])):
            ex.append(pytest.param(e, x, id=f"{e['id']}[{i}]"))
        for i, c in enumerate(e.get("counterexamples", [])):
            counter.append(pytest.param(e, c, id=f"{e['id']}~{i}"))
    return ex, counter


def _all_rules() -> list[dict[str, Any]]:
    y, p = RAW["year"], RAW["period"]
    return (RAW["boilerplate"]["markers"] + [y["heading"]] + y["strong"] + y["weak"] + y["hidden"]
            + p["cues"] + RAW["place"]["issuer_contexts"])


# --------------------------------------------------------------------------- schema

def test_rules_have_unique_ids_names_and_examples() -> None:
    rules = _all_rules()
    ids = [r["id"] for r in rules]
    assert len(ids) == len(set(ids)), "duplicate rule ids"
    for r in rules:
        assert r.get("name"), r["id"]
        assert r.get("examples"), f"{r['id']} has no examples"
    load_rules()  # every pattern compiles


# --------------------------------------------------------------------------- rule examples

BP_EX, BP_CX = _cases("boilerplate", RAW["boilerplate"]["markers"])


@pytest.mark.parametrize("rule,ex", BP_EX)
def test_boilerplate_example(rule: dict, ex: dict) -> None:
    assert strip_boilerplate(ex["text"]) == ex["expect"]


@pytest.mark.parametrize("rule,text", BP_CX)
def test_boilerplate_counterexample(rule: dict, text: str) -> None:
    assert regex.search(rule["pattern"], text) is None


YEAR_RULES = [RAW["year"]["heading"]] + RAW["year"]["strong"] + RAW["year"]["weak"] + RAW["year"]["hidden"]
YR_EX, YR_CX = _cases("year", YEAR_RULES)


@pytest.mark.parametrize("rule,ex", YR_EX)
def test_year_example(rule: dict, ex: dict) -> None:
    assert extract_year(ex["text"])[0] == ex["expect"]


@pytest.mark.parametrize("rule,text", YR_CX)
def test_year_counterexample(rule: dict, text: str) -> None:
    if rule["id"] == RAW["year"]["heading"]["id"]:
        assert heading_year(text)[0] is None
    else:
        assert regex.search(rule["pattern"], text) is None


PER_EX, PER_CX = _cases("period", RAW["period"]["cues"])


@pytest.mark.parametrize("rule,ex", PER_EX)
def test_period_example(rule: dict, ex: dict) -> None:
    assert rule["id"] in {c.rule_id for c in find_period_cues(ex["text"])}
    assert period_end(ex["text"], ex["year"])[0] == ex["expect"]


@pytest.mark.parametrize("rule,text", PER_CX)
def test_period_counterexample(rule: dict, text: str) -> None:
    assert rule["id"] not in {c.rule_id for c in find_period_cues(text)}


PL_EX, PL_CX = _cases("place", RAW["place"]["issuer_contexts"])


@pytest.mark.parametrize("rule,ex", PL_EX)
def test_issuer_example(rule: dict, ex: dict) -> None:
    assert any(rule["id"] in m.fired for m in place_mentions(ex["text"]))
    place = locate(ex["text"])
    assert place.city == ex["expect"]
    assert place.county == ex.get("county")


@pytest.mark.parametrize("rule,text", PL_CX)
def test_issuer_counterexample(rule: dict, text: str) -> None:
    assert not any(rule["id"] in m.fired for m in place_mentions(text))


# --------------------------------------------------------------------------- seeds

def _seed_cases() -> list:
    if not SEEDS.is_dir() or not GOLD.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{SEEDS} or {GOLD} absent"))]
    return [pytest.param(p, id=p.name[:3]) for p in sorted(SEEDS.iterdir())
            if (GOLD / f"{p.name}.yaml").is_file()]


@pytest.mark.parametrize("seed", _seed_cases())
def test_seed_matches_gold(seed: Path) -> None:
    raw = seed.read_text(encoding="utf-8")
    gold = yaml.safe_load((GOLD / f"{seed.name}.yaml").read_text(encoding="utf-8"))
    script = detect_script(raw)
    meta = extract_meta(normalize(raw), script)
    got = {"city": meta["city"], "province": meta["province"], "year": meta["year"],
           "script": script,
           "period_end": meta["period_end"]}
    want = {k: gold[k] for k in got}
    if want["period_end"] is not None:   # YAML reads 2019-09-30 as a date
        want["period_end"] = str(want["period_end"])
    assert got == want, meta["evidence"]


# --------------------------------------------------------------------------- script

@pytest.mark.parametrize("raw,want", [
    ("民生實(shí)事項(xiàng)目", "traditional"),             # pinyin noise
    ("關於全市民生工程完成情況的報告", "traditional"),      # no noise
    ("實施", "traditional"),                              # one character decides
    ("关于全市民生工程完成情况的报告", "simplified"),
    ("实施", "simplified"),
    ("2019年1-9月", "simplified"),                        # 年, 月 are the same in both
    ("", "simplified"),
    ("12345 abc", "simplified"),
])
def test_detect_script(raw: str, want: str) -> None:
    assert detect_script(raw) == want


# --------------------------------------------------------------------------- tricky cases

COUNTY_REPORT = """洪泽区人民政府
关于2020年民生实事项目完成情况的报告
区人大常委会：
2020年，区政府承诺实施的10件民生实事全部完成。截至11月底，新建改建农村公路52公里，完成率104%。
全区老旧小区改造3个，高良涧街道、岔河镇完成提升。淮安市下达的任务全部完成。
洪泽区人民政府
2020年12月10日
"""


def test_county_level_report_gives_its_city_and_county() -> None:
    meta = extract_meta(COUNTY_REPORT, "simplified")
    assert (meta["city"], meta["province"], meta["county"]) == ("淮安市", "江苏省", "洪泽区")
    assert meta["year"] == 2020
    assert meta["period_end"] == "2020-11-30"
    assert "洪泽区人民政府" in meta["evidence"]["county"]


HIDDEN = """关于20XX年为民办实事项目进展情况的汇报
20XX年，全县实施为民办实事项目12项。截至9月底，已完成8项。比20XX年同期增长5%。
运城市盐湖区
相关文章：
2016年为民办实事项目进展情况工作汇报
2017年民生工程汇报
"""


def test_hidden_year_gives_no_year_and_no_period() -> None:
    meta = extract_meta(HIDDEN, "simplified")
    assert meta["year"] is None
    assert meta["period_end"] is None      # 截至9月底, but of which year?


MILESTONES = """临汾市人民政府办公室关于印发2021年民生实事实施方案的通知
各县（市、区）人民政府：
一、年度进度安排
1.3-4月，基层调研。5月底前完成项目选址。
2.6 月底前完成任务量的 50%，9月底前完成80%，12月底前全部完成。
3.确保上半年完成招标，下半年全面开工。截至9月底前完成验收准备。
临汾市人民政府办公室
2021年3月1日印发
"""


def test_milestone_notice_has_no_period_end() -> None:
    meta = extract_meta(MILESTONES, "simplified")
    assert (meta["city"], meta["province"], meta["year"]) == ("临汾市", "山西省", 2021)
    assert meta["period_end"] is None
    assert find_period_cues(MILESTONES) == []


def test_ambiguous_district_follows_the_other_votes() -> None:
    # 海州区 is in both 阜新市 and 连云港市; 赣榆区 and 连云港 settle it
    text = "海州区新建学校2所。赣榆区新建幼儿园3所。海州区改造道路。连云港铁人三项。"
    assert locate(text).city == "连云港市"
    # alone, the ambiguous name decides nothing
    assert locate("海州区新建学校2所。海州区改造道路。").city is None


def test_province_inferred_from_city_not_from_mentions() -> None:
    text = "攀枝花市民生工程绩效管理。攀枝花市人民政府。赴北京学习，江苏经验，浙江经验。"
    place = locate(text)
    assert (place.city, place.province) == ("攀枝花市", "四川省")


def test_county_level_city_abbreviation_is_not_a_place() -> None:
    # 合作 (合作市) and 东方 (东方市) are everyday words
    assert locate("加强合作，东方红，合作共赢，深化合作").city is None


def test_municipality_is_its_own_city() -> None:
    place = locate("北京市人民政府关于2019年重要民生实事项目完成情况的报告。朝阳区、海淀区推进。")
    assert (place.city, place.province) == ("北京市", "北京市")


def test_text_without_place_or_year() -> None:
    meta = extract_meta("今年以来，全市民生实事进展顺利。", "simplified")
    assert meta == {"city": None, "province": None, "year": None, "period_end": None,
                    "county": None, "script": "simplified", "evidence": {}}


def test_boilerplate_year_does_not_count() -> None:
    text = "全市民生实事完成情况汇报\n" + "全市民生工程进展顺利，各项任务完成。\n" * 5 + "相关文章：\n2016年为民办实事汇报\n"
    assert extract_meta(text, "simplified")["year"] is None


def test_provincial_report_has_no_city() -> None:
    text = "山西省人民政府关于2019年民生实事的报告\n太原市完成。太原市推进。大同市完成。"
    place = locate(text)
    assert (place.city, place.province) == (None, "山西省")


def test_city_report_citing_a_provincial_document_keeps_its_city() -> None:
    text = ("运城市人民政府关于2019年民生实事进展的报告\n截至2018年底完成。截至9月底完成。"
            "按照山西省人民政府办公厅关于印发的通知要求。")
    meta = extract_meta(text, "simplified")
    assert (meta["city"], meta["province"], meta["period_end"]) == ("运城市", "山西省", "2019-09-30")


def test_county_named_once_among_responsible_units_is_not_the_issuer() -> None:
    text = ("关于做好民生实事工作的通知\n各有关单位：\n" + "全市推进民生实事，运城市各部门配合。\n" * 3
            + "实施主体：盐湖区人民政府负责。\n")
    place = locate(text)
    assert (place.city, place.county) == ("运城市", None)
