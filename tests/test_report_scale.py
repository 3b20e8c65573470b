"""report.html at folder scale: bounded, says what it left out and where, counts every
check once (reposts not again), and links only to what is on the page."""
from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from pipeline import report
from pipeline.report import write_report
from test_report_data import q

TEXT = "一、进展\n1.新建幼儿园。全市今年计划新建50所,已建成20所,完成率40%。\n"


def make_big(out: Path, n_docs: int, reposts: int = 0, max_values: int | None = None) -> Path:
    """n_docs documents of 5 cities, each with 3 figures and 2 checks (one inconsistent);
    the last `reposts` of them reposts of the first; one cross_doc finding per city with
    a value per document."""
    (out / "texts").mkdir(parents=True)
    docs, facts, checks = [], [], []
    s = TEXT.index("全市")
    for i in range(n_docs):
        doc = f"{i:05d}.txt"
        (out / "texts" / f"{doc}.txt").write_text(TEXT, encoding="utf-8")
        d = {"doc": doc, "status": "ok", "city": f"市{i % 5}", "year": 2019,
             "period_end": f"2019-{1 + i % 12:02d}-28", "format": "txt"}
        if i >= n_docs - reposts:
            d["duplicate_of"] = "00000.txt"
        docs.append(d)
        for v, u in ((50, "所"), (20, "所"), (40, "%")):
            facts.append({"doc": doc, "kind": "target", "value": v, "unit": u, "text": f"{v}{u}",
                          "start": TEXT.index(f"{v}{u}"), "end": TEXT.index(f"{v}{u}") + 3})
        checks.append({"doc": doc, "kind": "ratio", "verdict": "inconsistent", "reported": 40,
                       "computed": 40 + i % 97 / 10, "numerator": 20, "denominator": 50,
                       "evidence": TEXT[s:-1], "start": s, "end": len(TEXT) - 1, "figures": []})
        checks.append({"doc": doc, "kind": "ratio", "verdict": "consistent", "reported": 40,
                       "computed": 40, "evidence": TEXT[s:-1], "start": s, "end": len(TEXT) - 1})
    for c in range(5):
        members = [d for d in docs if d["city"] == f"市{c}" and "duplicate_of" not in d]
        values = [{"value": 50 + k, "unit": "所", "place_sum": False, "doc": m["doc"],
                   "documents": [{"doc": m["doc"], "period_end": m["period_end"]}],
                   "evidence": "计划新建50所", "start": s, "end": s + 8, "figures": [],
                   "latest": k == len(members) - 1} for k, m in enumerate(members[:max_values])]
        checks.append({"doc": members[0]["doc"], "kind": "cross_doc", "verdict": "inconsistent",
                       "reported": 50, "computed": 49 + len(members), "evidence": "计划新建50所",
                       "start": s, "end": s + 8, "project": "新建幼儿园", "city": f"市{c}",
                       "year": 2019, "doc_b": members[-1]["doc"], "target_b": 49 + len(members),
                       "unit": "所", "values": values})
    for name, rows in (("documents", docs), ("facts", facts), ("checks", checks), ("records", [])):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return out


@pytest.fixture()
def small_caps(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in (("MAX_PROBLEMS", 30), ("MAX_BEHIND", 5), ("MAX_DETAILED", 10),
                 ("MAX_VALUES", 4)):
        monkeypatch.setattr(report, k, v)


def test_page_is_bounded_and_says_what_it_left_out(tmp_path: Path, small_caps: None) -> None:
    sizes = {}
    for n in (200, 800):
        out = make_big(tmp_path / str(n), n, reposts=10)
        page = write_report(out)
        sizes[n] = page.stat().st_size
        dom = lxml.html.fromstring(page.read_text(encoding="utf-8"))
        # every check counted once, reposts' not at all
        assert dom.get_element_by_id("n-checks").text_content() == str(2 * (n - 10) + 5)
        assert dom.get_element_by_id("n-inconsistent").text_content() == str(n - 10 + 5)
        assert dom.get_element_by_id("n-reposts").text_content() == "10"
        assert len(q(dom, "article.problem")) == 30
        left = dom.get_element_by_id("problems-left-out").text_content()
        assert f"other {n - 10 + 5 - 30} inconsistent" in left and "checks.csv" in left
        assert f"other {n - 10 - 10}" in dom.get_element_by_id("docs-left-out").text_content()
        assert len(q(dom, "details.doc")) == 10 and len(q(dom, "tr.docrow")) == n
        # a cross-document finding lists MAX_VALUES values, then says how many more
        cross = [p for p in q(dom, "article.problem") if p.get("data-kind") == "cross_doc"]
        assert cross and all(len(q(p, "table.values tbody tr")) == 4 for p in cross)
        assert "more values" in cross[0].text_content()
        assert "… and" not in cross[0].text_content()     # one document per value here
        # reposts: in the index, pointing at their original
        rows = [r for r in q(dom, "tr.docrow") if "repost of" in r.text_content()]
        assert len(rows) == 10 and "00000.txt" in rows[0].text_content()
        ids = {e.get("id") for e in dom.iter() if e.get("id")}
        for a in q(dom, "a"):
            href = a.get("href") or ""
            assert not href.startswith("#") or href[1:] in ids, href
    # more documents add an index row each (~200 bytes), nothing else: 10,000 documents
    # make a page of a few MB
    assert (sizes[800] - sizes[200]) / 600 < 300


def test_counts_by_city_is_one_definition(tmp_path: Path) -> None:
    out = make_big(tmp_path / "o", 50, reposts=5)
    docs = [json.loads(x) for x in (out / "documents.jsonl").read_text("utf-8").splitlines()]
    checks = [json.loads(x) for x in (out / "checks.jsonl").read_text("utf-8").splitlines()]
    by = report.counts_by_city(docs, checks)
    assert sum(v["inconsistent"] for v in by.values()) == 45 + 5
    assert sum(v["reposts"] for v in by.values()) == 5
    dom = lxml.html.fromstring(write_report(out).read_text(encoding="utf-8"))
    shown = {tr.get("data-city"): int(q(tr, "td")[3].text_content())
             for tr in q(dom, "table.by-city tbody tr")}
    assert shown == {c: v["inconsistent"] for c, v in by.items()}


def test_a_value_stated_by_many_documents_names_a_few(tmp_path: Path) -> None:
    out = make_big(tmp_path / "o", 20)
    rows = [json.loads(x) for x in (out / "checks.jsonl").read_text("utf-8").splitlines()]
    cross = next(r for r in rows if r["kind"] == "cross_doc")
    cross["values"][0]["documents"] = [{"doc": f"{i:05d}.txt", "period_end": None} for i in range(30)]
    (out / "checks.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                      encoding="utf-8")
    dom = lxml.html.fromstring(write_report(out).read_text(encoding="utf-8"))
    art = next(p for p in q(dom, "article.problem") if p.get("data-kind") == "cross_doc"
               and p.get("data-city") == cross["city"])
    first = q(art, "table.values tbody tr")[0].text_content()
    assert first.count(".txt") == report.MAX_VALUE_DOCS and "30:" in first and "… and 22 more" in first


@pytest.mark.slow
def test_post_run_memory_does_not_follow_the_rows(tmp_path: Path) -> None:
    """write_exports streams (its peak is flat in the rows); write_report keeps a few
    small things per document (the index), nothing per figure or check."""
    import tracemalloc
    from pipeline import export
    export.write_exports(make_big(tmp_path / "warm", 5))  # imports are not the step's memory
    write_report(tmp_path / "warm")
    peaks: dict[tuple[str, int], int] = {}
    for n in (50, 500):
        out = make_big(tmp_path / str(n), n, max_values=10)   # rows of one size: more of them
        for name, step in (("export", export.write_exports), ("report", write_report)):
            tracemalloc.start()
            step(out)
            peaks[(name, n)] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    assert peaks[("export", 500)] < 1.5 * peaks[("export", 50)] + (1 << 20), peaks
    per_doc = (peaks[("report", 500)] - peaks[("report", 50)]) / 450
    assert per_doc < 6000, peaks        # bytes per document: its index row and metadata
