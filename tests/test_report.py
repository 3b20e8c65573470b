"""report.html: problems first, largest relative discrepancy first, evidence with <mark>s."""
from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from pipeline.report import highlight, highlight_numbers, relative_discrepancy, write_report
from test_report_data import make_out, q


@pytest.fixture()
def page(tmp_path: Path) -> lxml.html.HtmlElement:
    out = make_out(tmp_path)
    path = write_report(out)
    assert path == out / "report.html"
    return lxml.html.fromstring(path.read_text(encoding="utf-8"))


def test_summary_counts(page: lxml.html.HtmlElement) -> None:
    assert page.get_element_by_id("n-docs").text_content() == "4"
    assert page.get_element_by_id("n-facts").text_content() == "18"
    assert page.get_element_by_id("n-checks").text_content() == "7"
    assert page.get_element_by_id("n-inconsistent").text_content() == "4"
    assert page.get_element_by_id("n-behind").text_content() == "1"


def test_inconsistent_first_largest_relative_discrepancy_first(page: lxml.html.HtmlElement) -> None:
    probs = q(page, "article.problem")
    verdicts = [p.get("data-verdict") for p in probs]
    assert verdicts == ["inconsistent"] * 4 + ["behind"]
    kinds = [p.get("data-kind") for p in probs]
    # 186 vs 221 (18.8%), 90.12 vs 90.2 (0.089%), 130.52 vs 130.42 (0.077%), 7285 vs 7290 (0.069%)
    assert kinds == ["cross_doc", "ratio", "ratio", "sum", "schedule"]
    assert "90.12%" in probs[1].text_content() and "130.52%" in probs[2].text_content()


def test_evidence_marks_the_figures(page: lxml.html.HtmlElement) -> None:
    ratio = q(page, "article.problem")[2]
    marks = [m.text_content() for m in q(ratio, "blockquote.evidence mark")]
    assert marks == ["6125名", "7988名", "130.52%"]
    assert "已服务7988名" in q(ratio, "blockquote.evidence")[0].text_content()
    s = q(page, "article.problem")[3]
    assert [m.text_content() for m in q(s, "mark")] == ["7285名", "300名", "6125名", "865名"]
    cross = q(page, "article.problem")[0]
    blocks = q(cross, "blockquote.evidence")
    assert len(blocks) == 2
    assert [m.text_content() for m in q(blocks[0], "mark")] == ["160条", "2条"]
    assert [m.text_content() for m in q(blocks[1], "mark")] == ["221条"]


def test_links_reach_the_document_and_the_check(page: lxml.html.HtmlElement) -> None:
    ids = {e.get("id") for e in page.iter() if e.get("id")}
    for a in q(page, "article.problem a"):
        href = a.get("href")
        assert href.startswith("#") and href[1:] in ids, href
    row = page.get_element_by_id("chk-1")
    assert row.get("data-verdict") == "inconsistent"
    assert row.getparent().getparent().getparent().getparent().tag == "details"


def test_failed_documents_listed_with_error(page: lxml.html.HtmlElement) -> None:
    t = q(page, "table.failed")[0].text_content()
    assert "broken.pdf" in t and "encrypted" in t


def test_self_contained_and_escaped(page: lxml.html.HtmlElement) -> None:
    for sel in ("script[src]", "link[href]", "img[src]", "iframe", "object", "embed"):
        assert not q(page, sel), sel
    html = lxml.html.tostring(page, encoding="unicode")
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
    # the fixture's text holds <script>alert(1)</script>: never a live script
    assert all("alert(1)" not in (s.text or "") for s in q(page, "script"))


def test_filters_offer_the_run_values(page: lxml.html.HtmlElement) -> None:
    opts = {k: [o.text for o in q(page, f"#f-{k} option")][1:]
            for k in ("city", "year", "verdict", "kind")}
    assert opts["city"] == ["临沂市", "运城市"]
    assert opts["year"] == ["2019"]
    assert "inconsistent" in opts["verdict"] and "behind" in opts["verdict"]
    assert opts["kind"] == ["cross_doc", "ratio", "schedule", "sum"]


def test_highlight_helpers() -> None:
    text = "总数7285名,其中300名和6125名。"
    html, n = highlight(text, 0, len(text), [[2, 7], [10, 14]])
    assert n == 2 and str(html).count("<mark>") == 2
    # a figure outside the evidence span still shows, with context
    html, n = highlight("A" * 100 + "221条" + "B" * 100 + "计划改造。", 205, 210, [[100, 104]])
    assert n == 1 and "…" in str(html)
    html, n = highlight_numbers("完成率130.52%,已服务7988名", [130.52, 7988, None])
    assert n == 2
    assert relative_discrepancy({"reported": 200, "computed": 150}) == 0.25
    assert relative_discrepancy({"reported": None, "computed": None}) is None


def test_missing_texts_fall_back_to_evidence(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    for p in (out / "texts").iterdir():
        p.unlink()
    page = lxml.html.fromstring(write_report(out).read_text(encoding="utf-8"))
    ratio = q(page, "article.problem")[2]
    assert "130.52" in [m.text_content() for m in q(ratio, "mark")]


def test_empty_run(tmp_path: Path) -> None:
    (tmp_path / "documents.jsonl").write_text(
        json.dumps({"doc": "a.txt", "status": "failed", "error": "empty file", "format": "txt"}) + "\n",
        encoding="utf-8")
    page = lxml.html.fromstring(write_report(tmp_path).read_text(encoding="utf-8"))
    assert not q(page, "article.problem")
    assert "empty file" in q(page, "table.failed")[0].text_content()


def test_section_path_of_a_check(page: lxml.html.HtmlElement) -> None:
    from pipeline.report import section_path
    text = "一、进展情况\n(一)提前完成\n1.实施某项目。已服务7988名,完成率130.52%。\n二、措施\n(二)资金\n共计952万元。\n"
    assert section_path(text, text.index("130.52%")) == ["一、进展情况", "(一)提前完成", "1.实施某项目"]
    assert section_path(text, text.index("952万元")) == ["二、措施", "(二)资金"]
    ratio = q(page, "article.problem")[2]
    assert "1.实施7285名残疾儿童" in q(ratio, "div.section")[0].text_content()


def test_rerun_gives_identical_page(tmp_path: Path) -> None:
    out = make_out(tmp_path)
    first = write_report(out).read_bytes()
    assert write_report(out).read_bytes() == first


def test_table_rows_and_annex() -> None:
    from pipeline.report import section_path
    text = "三、破解工作难题\n附件\n序号\t工作任务\n9\t小街小巷\t\t\t盐湖区:160条\t\t\n"
    assert section_path(text, text.index("160条")) == ["附件"]
    html, n = highlight(text, text.index("9\t"), len(text) - 1, [[text.index("160条"), text.index("160条") + 4]])
    assert str(html) == "9 │ 小街小巷 │ 盐湖区:<mark>160条</mark>" and n == 1


def test_section_path_of_a_check_that_opens_its_heading():
    """A check whose evidence starts with its own heading sits in that heading, not the one before."""
    from pipeline.report import section_path
    text = "二、分项进展情况\n(二)关爱一线。为2万名人员体检。\n(三)新增城区停车泊位8000个。其中红花岗区3000个。\n"
    assert section_path(text, text.find("(三)"))[-1].startswith("(三)")
