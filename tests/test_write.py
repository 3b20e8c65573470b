"""write.py: JSON conversion, row order, CSV with BOM, atomic commit and abort."""
from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline import write
from pipeline.types import Check, DocResult, Fact


@pytest.mark.parametrize("value, expected", [
    (Decimal("12"), 12),
    (Decimal("12.00"), 12),
    (Decimal("129.67"), 129.67),
    (Decimal("1.2E+5"), 120000),
    ([Decimal("1"), Decimal("0.5")], [1, 0.5]),
    ({"a": (Decimal("3"),)}, {"a": [3]}),
    (Decimal("NaN"), None),
    (None, None),
])
def test_jsonable_decimal_to_int_or_float(value, expected):
    got = write.jsonable(value)
    assert got == expected
    assert type(got) is type(expected)


def _fact(doc: str, start: int, text: str = "10") -> Fact:
    return Fact(doc=doc, kind="count", value=Decimal(text), unit="个", approx=False,
                text=text, start=start, end=start + len(text))


def _result(doc: str) -> DocResult:
    facts = [_fact(doc, 20), _fact(doc, 3), _fact(doc, 11)]
    checks = [
        Check(doc=doc, kind="sum", verdict="inconsistent", reported=Decimal("10"),
              computed=Decimal("9"), evidence="e", start=5, end=9, parts=[Decimal("4"),
                                                                          Decimal("5")]),
        Check(doc=doc, kind="ratio", verdict="consistent", reported=Decimal("50.0"),
              computed=Decimal("50"), evidence="e", start=5, end=9,
              numerator=Decimal("1"), denominator=Decimal("2")),
        Check(doc=doc, kind="ratio", verdict="consistent", reported=Decimal("1"),
              computed=Decimal("1"), evidence="e", start=1, end=2),
    ]
    document = {"doc": doc, "status": "ok", "error": None, "format": "txt",
                "script": "simplified", "city": "运城市", "province": "山西省",
                "year": 2019, "period_end": "2019-09-30", "pages": None, "seconds": 1.23}
    return DocResult(document=document, text="正文" * 20, facts=facts, checks=checks,
                     records=[{"project": "项目", "target": Decimal("60"),
                               "actual": Decimal("30.5")}])


def test_render_counts_and_lines():
    e = write.entry_from_result("a.txt", _result("a.txt"), sha256="ab", rules_hash="r1")
    r = write.render(e)
    assert r["counts"] == {"facts": 3, "checks": 3, "inconsistent": 1}
    assert r["jsonl"]["facts"].count("\n") == 3
    assert [json.loads(x)["start"] for x in r["jsonl"]["facts"].splitlines()] == [3, 11, 20]
    assert r["csv"]["facts"].count("\r\n") == 3
    assert r["status"] == "ok" and r["text"] == "正文" * 20


def test_entry_sorts_rows_and_keeps_contract_keys_first():
    e = write.entry_from_result("a/b.txt", _result("a/b.txt"), sha256="ab", rules_hash="r1")
    assert [f["start"] for f in e["facts"]] == [3, 11, 20]
    assert [(c["start"], c["kind"]) for c in e["checks"]] == [(1, "ratio"), (5, "ratio"),
                                                               (5, "sum")]
    assert list(e["document"])[:11] == list(write.DOCUMENT_KEYS)
    assert "seconds" not in e["document"]          # timing only in run.json
    assert e["document"]["sha256"] == "ab" and e["document"]["rules_hash"] == "r1"
    assert e["records"][0] == {"project": "项目", "target": 60, "actual": 30.5,
                               "doc": "a/b.txt"}
    json.dumps(e)  # everything JSON-ready


def test_failed_entry_error_is_one_line():
    e = write.failed_entry("x.pdf", "bad\n  thing\r\nhere", fmt="pdf", sha256=None,
                           rules_hash="r")
    assert e["document"]["status"] == "failed"
    assert e["document"]["error"] == "bad thing here"
    assert e["text"] is None


def test_text_path_never_escapes(tmp_path):
    assert write.text_path(tmp_path, "a/b.pdf") == tmp_path / "a" / "b.pdf.txt"
    p = write.text_path(tmp_path, "../../etc/x")
    assert tmp_path in p.parents


def _commit(out: Path, docs: list[str]) -> write.OutputWriter:
    w = write.OutputWriter(out)
    for d in docs:
        w.add(write.render(write.entry_from_result(d, _result(d), sha256="s", rules_hash="r")))
    w.add_checks([{"doc": "*", "kind": "cross_doc", "verdict": "consistent",
                   "reported": Decimal("1.5"), "computed": None, "evidence": "", "start": 0,
                   "end": 0, "other_docs": ["a.txt", "b.txt"]}])
    w.commit()
    return w


def test_commit_writes_all_tables_csv_with_bom(tmp_path):
    out = tmp_path / "out"
    _commit(out, ["a.txt", "sub/b.txt"])
    for t in write.TABLES:
        assert (out / f"{t}.jsonl").is_file()
        raw = (out / f"{t}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), t
    assert (out / "texts" / "sub" / "b.txt.txt").read_text(encoding="utf-8") == "正文" * 20
    docs = [json.loads(x) for x in (out / "documents.jsonl").read_text("utf-8").splitlines()]
    assert [d["doc"] for d in docs] == ["a.txt", "sub/b.txt"]
    assert "运城市" in (out / "documents.jsonl").read_text("utf-8")  # ensure_ascii=False
    checks = [json.loads(x) for x in (out / "checks.jsonl").read_text("utf-8").splitlines()]
    assert checks[-1]["kind"] == "cross_doc" and checks[-1]["reported"] == 1.5
    with open(out / "checks.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    sums = [r for r in rows if r["kind"] == "sum"]
    assert json.loads(sums[0]["parts"]) == [4, 5]       # lists as JSON strings
    assert list(rows[0])[:4] == ["doc", "kind", "verdict", "reported"]
    assert list(rows[0])[-1] == "extra"                 # keys without a column, as JSON
    assert json.loads(rows[-1]["extra"]) == {"other_docs": ["a.txt", "b.txt"]}
    assert rows[0]["extra"] == ""
    with open(out / "documents.csv", encoding="utf-8-sig", newline="") as f:
        docs_csv = list(csv.DictReader(f))
    assert docs_csv[0]["city"] == "运城市" and docs_csv[0]["year"] == "2019"
    assert docs_csv[0]["pages"] == "" and docs_csv[0]["extra"] == ""
    assert not list(out.glob(".tmp-*"))


def test_same_entries_give_byte_identical_files(tmp_path):
    _commit(tmp_path / "one", ["b.txt", "c.txt"])
    _commit(tmp_path / "two", ["b.txt", "c.txt"])
    for name in [f"{t}.{ext}" for t in write.TABLES for ext in ("jsonl", "csv")]:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_abort_leaves_previous_outputs(tmp_path):
    out = tmp_path / "out"
    _commit(out, ["a.txt"])
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    w = write.OutputWriter(out)
    w.add(write.render(write.entry_from_result("z.txt", _result("z.txt"), sha256="s",
                                               rules_hash="r")))
    w.abort()
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before


def test_texts_folder_swapped_whole(tmp_path):
    out = tmp_path / "out"
    _commit(out, ["a.txt", "gone.txt"])
    _commit(out, ["a.txt"])
    assert not (out / "texts" / "gone.txt.txt").exists()
    assert (out / "texts" / "a.txt.txt").exists()


def test_empty_tables_still_have_headers(tmp_path):
    out = tmp_path / "out"
    w = write.OutputWriter(out)
    w.add(write.render(write.failed_entry("x.pdf", "empty file", fmt="pdf", sha256=None,
                                          rules_hash="r")))
    w.commit()
    header = (out / "facts.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",")[:3] == ["doc", "kind", "value"]
    assert (out / "facts.jsonl").read_bytes() == b""


def test_read_doc_lines_reads_only_the_documents_asked(tmp_path):
    w = write.OutputWriter(tmp_path / "out")
    try:
        for d in ["a.txt", "b.txt", "c.txt"]:
            r = _result(d)
            r.records = [{"project": f"{d} 项目 {i}", "target": Decimal(i)} for i in range(3)]
            w.add(write.render(write.entry_from_result(d, r, sha256="s", rules_hash="r")))
        w.add(write.render(write.failed_entry("d.pdf", "empty", fmt="pdf", sha256=None,
                                              rules_hash="r")))
        got = [json.loads(x) for x in w.read_doc_lines("records", ["c.txt", "a.txt", "d.pdf"])]
        assert [(r["doc"], r["target"]) for r in got] == [("c.txt", 0), ("c.txt", 1),
                                                          ("c.txt", 2), ("a.txt", 0),
                                                          ("a.txt", 1), ("a.txt", 2)]
        assert [f["start"] for f in w.read_docs("facts", ["b.txt"])] == [3, 11, 20]
        assert [d["doc"] for d in w.documents()] == ["a.txt", "b.txt", "c.txt", "d.pdf"]
        with pytest.raises(ValueError):
            list(w.read_doc_lines("checks", ["a.txt"]))
    finally:
        w.abort()


def test_checks_that_fail_midway_leave_checks_untouched(tmp_path):
    out = tmp_path / "out"
    w = write.OutputWriter(out)
    w.add(write.render(write.entry_from_result("a.txt", _result("a.txt"), sha256="s",
                                               rules_hash="r")))

    def checks():
        yield {"doc": "a.txt", "kind": "cross_doc", "verdict": "inconsistent", "start": 0}
        raise RuntimeError("crossdoc bug")
    with pytest.raises(RuntimeError):
        w.spool_checks(checks())
    spool = w.spool_checks(iter([
        {"doc": "b.txt", "kind": "cross_doc", "verdict": "inconsistent", "start": 0},
        {"doc": "a.txt", "kind": "cross_doc", "verdict": "consistent", "start": 9},
        {"doc": "a.txt", "kind": "cross_doc", "verdict": "inconsistent", "start": 9, "n": 2}]))
    assert (len(spool), spool.inconsistent) == (3, 2)
    w.add_spooled(spool)
    assert not list(w.tmp.glob("*.spool"))
    w.commit()
    checks_rows = [json.loads(x) for x in (out / "checks.jsonl").read_text("utf-8").splitlines()]
    assert len(checks_rows) == 3 + 3            # the three per-document ones, then these
    assert [(c["doc"], c["verdict"]) for c in checks_rows[3:]] == [
        ("a.txt", "consistent"), ("a.txt", "inconsistent"), ("b.txt", "inconsistent")]


def test_records_name_a_project_from_the_clause_where_no_item_does():
    """rules/records.yaml's examples: the words before a figure, less time, place and verbs."""
    from pipeline.process import process
    from pipeline.records import clause_name
    from pipeline.rules import load
    from pipeline.segment import segment
    rules = load()
    conf = rules.extra["records"]
    for ex in conf["examples"]:
        layout = segment(ex["text"], rules.extra["segment"])
        start = ex["text"].index(ex["figure"])
        fact = Fact(doc="d", kind="count", value=None, unit=None, approx=False, text=ex["figure"],
                    start=start, end=start + len(ex["figure"]))
        assert clause_name(ex["text"], layout, fact, conf) == ex["name"], ex
    # and a record of a figure outside any item carries that name and its category
    text = "截至10月底,全市城镇新增就业5.2万人,完成年度目标5万人的104%。"
    rec = process("a.txt", "a.txt", text.encode("utf-8"), rules).records[0]
    assert rec["project"] == "城镇新增就业" and rec["category"] == "就业"
