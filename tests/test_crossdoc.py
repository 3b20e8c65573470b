"""Cross-document target conflicts on hand-made records shaped like seeds 002 and 000."""
from __future__ import annotations

from decimal import Decimal

from pipeline.crossdoc import cross_doc_checks, normalize_project, project_tokens, similarity

COUNTIES_002 = [("盐湖区", 160)] + [(c, 2) for c in
                ["永济市", "河津市", "临猗县", "万荣县", "稷山县", "新绛县", "闻喜县", "绛县",
                 "垣曲县", "夏县", "平陆县", "芮城县", "运城开发区"]]


def rec(doc: str, project: str, target: float | None, unit: str, *, place: str | None = None,
        sub_item: str | None = None, start: int = 0, period_end: str | None = None,
        evidence: str = "") -> dict:
    return {"doc": doc, "city": "运城市", "province": "山西省", "year": 2019,
            "period_end": period_end, "project": project, "sub_item": sub_item,
            "category": "城市建设", "indicator": None, "unit": unit, "target": target,
            "actual": None, "reported_pct": None, "computed_pct": None, "verdict": None,
            "amount_yuan": None, "lead_unit": None, "evidence": evidence or project,
            "start": start, "end": start + 10, **({"place": place} if place else {})}


def seeds_like() -> list[dict]:
    n, b = "002_notice.txt", "000_report.txt"
    rows = [rec(n, "继续实施全民技能提升工程（20 万人）", 200000, "人", start=100),
            rec(n, "免费送戏下乡 2000 场项目", 2000, "场", start=300),
            rec(b, "继续实施全民技能提升工程", 100000, "人", start=50, period_end="2019-09-30",
                evidence="省里下达我市的任务是10万人"),
            rec(b, "继续实施全民技能提升工程", 200000, "人", start=70, period_end="2019-09-30",
                evidence="我市将培训人数提高到20万人"),
            rec(b, "免费送戏下乡2000场项目", 2000, "场", start=90, period_end="2019-09-30"),
            rec(b, "实施中心城区和各县城小街小巷改造提升工程", 221, "条", start=400,
                period_end="2019-09-30", evidence="全市今年计划改造221条"),
            rec(b, "小街小巷改造项目", None, "条", start=900, period_end="2019-09-30")]
    for i, (county, t) in enumerate(COUNTIES_002):
        rows.append(rec(n, "实施中心城区和各县城小街小巷改造提升工程", t, "条", place=county,
                        start=1000 + 10 * i, evidence=f"{county}：{t}条"))
    return rows


def test_finds_the_xiaojie_conflict_and_nothing_else() -> None:
    checks = cross_doc_checks(seeds_like())
    assert len(checks) == 1, [c.reason for c in checks]
    c = checks[0]
    assert (c.kind, c.verdict) == ("cross_doc", "inconsistent")
    assert c.doc == "002_notice.txt" and c.other["doc_b"] == "000_report.txt"
    assert c.reported == Decimal(186) and c.computed == Decimal(221)
    assert c.other["target_b"] == Decimal(221)
    assert c.discrepancy == Decimal(35)
    assert "盐湖区" in c.evidence and "221" in c.evidence
    assert len(c.figures) == 14  # each county's figure, to highlight in the report


def test_per_place_target_facts_stand_in_for_records() -> None:
    rows = [r for r in seeds_like() if not r.get("place")]
    facts = [{"doc": "002_notice.txt", "kind": "target", "value": t, "unit": "条",
              "text": f"{t}条", "start": 1000 + 10 * i, "end": 1004 + 10 * i,
              "project": "实施中心城区和各县城小街小巷改造提升工程", "place": county}
             for i, (county, t) in enumerate(COUNTIES_002)]
    docs = [{"doc": "002_notice.txt", "city": "运城市", "year": 2019, "period_end": None}]
    checks = cross_doc_checks(rows, facts, docs)
    assert [(c.reported, c.computed) for c in checks] == [(Decimal(186), Decimal(221))]


def test_other_city_year_or_unit_is_not_compared() -> None:
    rows = seeds_like()
    for r in rows:
        if r["doc"] == "000_report.txt":
            r["year"] = 2020
    assert cross_doc_checks(rows) == []
    rows = seeds_like()
    for r in rows:
        if r["doc"] == "000_report.txt" and r["unit"] == "条":
            r["unit"] = "公里"
    assert cross_doc_checks(rows) == []


def test_unrelated_projects_of_one_city_do_not_match() -> None:
    a = project_tokens("实施中心城区和各县城公厕建设工程")
    b = project_tokens("实施中心城区和各县城小街小巷改造提升工程")
    assert similarity(a, b) < 0.5
    assert similarity(project_tokens("小街小巷改造项目"), b) >= 0.5
    assert similarity(project_tokens("两癌检查"), project_tokens("为44400名贫困县妇女进行免费“两癌”检查服务项目")) >= 0.5


def test_normalize_strips_filler_and_numbers() -> None:
    assert normalize_project("继续实施全民技能提升工程（20 万人）") == "全民技能提升"
    assert normalize_project("新建60个日间照料中心项目") == "新建日间照料中心"
    assert normalize_project("免费送戏下乡 2000 场项目") == "送戏下乡"


def test_records_without_city_are_skipped() -> None:
    rows = seeds_like()
    for r in rows:
        r["city"] = None
    assert cross_doc_checks(rows) == []


def test_place_cells_are_recognized_without_a_place_key() -> None:
    from pipeline.crossdoc import place_of
    assert place_of({"evidence": "盐湖区:160条"}) == "盐湖区"
    assert place_of({"evidence": "市蒲团：65 场"}) == "市蒲团"
    assert place_of({"evidence": "运城开发区:2条"}) == "运城开发区"
    assert place_of({"evidence": "全市今年计划改造221条"}) is None
    rows = seeds_like()
    for r in rows:
        if r.pop("place", None):
            pass
    assert [(c.reported, c.computed) for c in cross_doc_checks(rows)] == [(Decimal(186), Decimal(221))]


def test_target_figure_is_located_in_the_other_documents_evidence() -> None:
    rows = seeds_like()
    for r in rows:
        if r["target"] == 221 or r.get("place"):
            r["end"] = r["start"] + len(r["evidence"])
    [c] = cross_doc_checks(rows)
    assert c.other["figures_b"] == [[408, 412]]          # 全市今年计划改造|221条|
    assert c.start == 1000 and c.figures[0] == (1004, 1008)   # 盐湖区：|160条|
