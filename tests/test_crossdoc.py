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


# --- the run's streaming path: one city and year at a time, from the writer's files ---

import json  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from pipeline import run as runmod, write  # noqa: E402
from pipeline.crossdoc import cross_doc_for_run, cross_doc_streamed  # noqa: E402

# Small real documents: two city-year pairs whose targets disagree (运城 2019 and 常德 2021;
# 常德 sorts first as a group, 运城's docs first by name), and three documents without a
# partner: another city, no city or year, the same city in another year.
SMALL_RUN = {
    "a_notice.txt": "运城市人民政府办公室关于做好2019年市政府实施的10件民生实事的通知\n\n"
                    "2019年市政府实施以下民生实事。\n\n"
                    "一、实施中心城区和各县城小街小巷改造提升工程。全市今年计划改造186条。市住建局牵头实施。\n\n"
                    "二、免费送戏下乡2000场。市文旅局牵头实施。\n",
    "b_report.txt": "运城市人民政府关于2019年承诺民生实事办理情况的报告\n\n"
                    "一、2019年1-9月民生实事进展情况\n\n"
                    "1.实施中心城区和各县城小街小巷改造提升工程。全市今年计划改造221条。截至9月底,已完工98条,完工率44%。\n\n"
                    "2.免费送戏下乡2000场。截至9月底,已演出1500场,完成75%。\n",
    "c_lonely.txt": "临沂市人民政府关于2019年民生实事进展情况的报告\n\n"
                    "1.新建日间照料中心。全市今年计划新建60个。截至5月底,已完成30个,完成50%。\n",
    "d_noyear.txt": "关于民生实事进展情况的报告\n\n"
                    "1.新建日间照料中心。全市今年计划新建60个。截至5月底,已完成30个,完成50%。\n",
    "e_other_year.txt": "运城市人民政府关于2020年承诺民生实事办理情况的报告\n\n"
                        "1.实施中心城区和各县城小街小巷改造提升工程。全市今年计划改造300条。截至9月底,已完工98条,完工率33%。\n",
    "g_notice.txt": "常德市人民政府关于做好2021年民生实事的通知\n\n"
                    "一、新建城区幼儿园。全市今年计划新建50所。市教育局牵头实施。\n",
    "h_report.txt": "常德市人民政府关于2021年民生实事进展情况的报告\n\n"
                    "1.新建城区幼儿园。全市今年计划新建40所。截至9月底,已建成20所,完成50%。\n",
}
PAIRED = {"a_notice.txt", "b_report.txt", "g_notice.txt", "h_report.txt"}


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[tuple[str, list[str]]]]:
    """A real run (real rules and extraction) over SMALL_RUN, noting what the
    cross-document step read back from the writer's files."""
    src = tmp_path_factory.mktemp("in")
    for name, text in SMALL_RUN.items():
        (src / name).write_text(text, encoding="utf-8")
    out = tmp_path_factory.mktemp("run") / "out"
    reads: list[tuple[str, list[str]]] = []
    real = write.OutputWriter.read_doc_lines

    def read_doc_lines(self, table, docs):
        docs = list(docs)
        for line in real(self, table, docs):
            reads.append((table, [json.loads(line)["doc"]]))
            yield line
        reads.append((table, docs))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(write.OutputWriter, "read_doc_lines", read_doc_lines)
        s = runmod.run([src], runmod.RunOptions(out=out, jobs=1, quiet=True, progress=False,
                                                post_run=False))
    assert s.failed == 0 and not s.warnings, s.warnings
    return out, reads


def test_streamed_run_writes_what_cross_doc_checks_finds(small_run) -> None:
    out, _ = small_run
    expected = [write.jsonable(c.contract()) for c in cross_doc_for_run(out)]
    expected.sort(key=lambda r: (r["doc"], r["start"], r["kind"]))
    assert [(r["doc"], r["reported"], r["computed"]) for r in expected] == \
        [("a_notice.txt", 186, 221), ("g_notice.txt", 50, 40)]
    lines = (out / "checks.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    tail = lines[-len(expected):]
    assert "".join(tail) == write.jsonl_lines(expected)          # byte for byte, in order
    assert json.loads(lines[-len(expected) - 1])["kind"] != "cross_doc"
    csv_text = (out / "checks.csv").read_bytes().decode("utf-8")      # keep the \r\n
    assert csv_text.endswith(write.csv_lines("checks", expected))


def test_documents_without_a_city_year_partner_are_never_read(small_run) -> None:
    out, reads = small_run
    records = [json.loads(x) for x in (out / "records.jsonl").read_text("utf-8").splitlines()]
    with_targets = {r["doc"] for r in records if r.get("target") is not None}
    assert with_targets == set(SMALL_RUN)     # every document had rows that could match
    read_docs = {d for _, docs in reads for d in docs}
    assert read_docs == PAIRED                # ... but only the paired ones were read back
    assert {t for t, _ in reads} == {"records", "facts"}


def test_streamed_equals_cross_doc_checks_on_the_writers_files(tmp_path: Path) -> None:
    """The seeds-like rows (records and per-place facts) through a real OutputWriter:
    the streaming path and cross_doc_checks over everything agree, check for check."""
    notice, report = "002_notice.txt", "000_report.txt"
    rows = seeds_like()
    by_doc: dict[str, dict] = {}
    for doc in (report, notice, "003_lonely.txt", "004_no_city.txt"):
        by_doc[doc] = {"doc": doc, "document": write.document_row(
            doc, {"status": "ok", "city": None if doc == "004_no_city.txt" else
                  "临沂市" if doc == "003_lonely.txt" else "运城市",
                  "year": 2019, "period_end": "2019-09-30" if doc == report else None},
            sha256=None, rules_hash=None), "facts": [], "checks": [], "records": [],
            "text": None}
    for r in rows:
        if r.get("place"):   # the county table as per-place target facts, not records
            by_doc[r["doc"]]["facts"].append(
                {"doc": r["doc"], "kind": "target", "value": r["target"], "unit": r["unit"],
                 "text": f"{r['target']}条", "start": r["start"], "end": r["end"],
                 "project": r["project"], "place": r["place"]})
        else:
            by_doc[r["doc"]]["records"].append(r)
    for doc in ("003_lonely.txt", "004_no_city.txt"):
        by_doc[doc]["records"] = [{**r, "doc": doc} for r in by_doc[report]["records"]]
    w = write.OutputWriter(tmp_path / "out")
    try:
        for doc in sorted(by_doc):
            w.add(write.render(by_doc[doc]))
        whole = cross_doc_checks(w.read_records(), w.read_rows("facts"), w.read_rows("documents"))
        asked: list[str] = []

        def lines(table, docs):
            asked.extend(docs)
            return w.read_doc_lines(table, docs)
        streamed = list(cross_doc_streamed(w.documents(), lines))
    finally:
        w.abort()
    assert [(c.reported, c.computed) for c in whole] == [(Decimal(186), Decimal(221))]
    assert [c.contract() for c in streamed] == [c.contract() for c in whole]
    assert set(asked) == {notice, report}


# --- many documents of one city and year: one finding per project, not per pair ---

def monthly(doc: str, month: int, target: float, project: str = "小街小巷改造项目") -> dict:
    return rec(doc, project, target, "条", start=10, period_end=f"2019-{month:02d}-28",
               evidence=f"全市今年计划改造{target:g}条")


def test_one_finding_lists_each_value_with_its_documents() -> None:
    rows = seeds_like() + [monthly("010_may.txt", 5, 221), monthly("011_jun.txt", 6, 221),
                           monthly("012_nov.txt", 11, 230)]
    [c] = cross_doc_checks(rows)
    vals = c.other["values"]
    assert [(v["value"], v["place_sum"]) for v in vals] == \
        [(Decimal(186), True), (Decimal(221), False), (Decimal(230), False)]
    assert [d["doc"] for d in vals[0]["documents"]] == ["002_notice.txt"]
    # the report (period 09-30) sorts after May and June: all three say 221
    assert [d["doc"] for d in vals[1]["documents"]] == ["010_may.txt", "011_jun.txt", "000_report.txt"]
    assert [d["period_end"] for d in vals[1]["documents"]] == ["2019-05-28", "2019-06-28", "2019-09-30"]
    assert [v["latest"] for v in vals] == [False, False, True]
    assert c.other["latest_doc"] == "012_nov.txt" and c.other["latest_value"] == Decimal(230)
    assert c.other["documents"] == 5 and c.other["distinct_values"] == 3
    # the pair shown first: the plan against the latest document
    assert (c.doc, c.reported, c.other["doc_b"], c.computed) == \
        ("002_notice.txt", Decimal(186), "012_nov.txt", Decimal(230))
    assert "3 个不同的目标" in c.reason and "012_nov.txt" in c.reason


def test_findings_grow_with_projects_not_with_documents() -> None:
    def corpus(n: int) -> list[dict]:
        rows = seeds_like()
        for i in range(n):   # n progress reports that agree with the 221 of the report
            rows.append(monthly(f"1{i:03d}.txt", 10, 221))
            rows.append(rec(f"1{i:03d}.txt", "免费送戏下乡2000场项目", 2000, "场", start=30,
                            period_end="2019-10-28"))
        return rows
    small, large = cross_doc_checks(corpus(3)), cross_doc_checks(corpus(120))
    assert len(small) == len(large) == 1
    [v186, v221] = large[0].other["values"]
    assert len(v186["documents"]) == 1 and len(v221["documents"]) == 121


def test_agreeing_documents_make_no_finding() -> None:
    rows = [monthly(f"{i}.txt", i + 1, 221) for i in range(6)]
    assert cross_doc_checks(rows) == []


def test_a_repost_adds_no_finding() -> None:
    """A repost marked duplicate_of is left out, even where its figures differ from the
    others' (they are the original's figures, already counted)."""
    rows = seeds_like() + [monthly("050_repost.txt", 9, 999)]
    docs = [{"doc": d, "city": "运城市", "year": 2019, "period_end": pe}
            for d, pe in (("002_notice.txt", None), ("000_report.txt", "2019-09-30"))]
    docs.append({"doc": "050_repost.txt", "city": "运城市", "year": 2019,
                 "period_end": "2019-09-28", "duplicate_of": "000_report.txt"})
    [c] = cross_doc_checks(rows, [], docs)
    assert [v["value"] for v in c.other["values"]] == [Decimal(186), Decimal(221)]
    assert "050_repost.txt" not in str(c.contract())
