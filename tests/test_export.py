"""OUT -> minsheng.xlsx and parquet/: the workbook people open, the files programs read."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from pipeline.export import display_width, load_run, to_arrow, write_exports
from test_report_data import make_out


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    o = make_out(tmp_path)
    write_exports(o)
    return o


def test_workbook_has_four_sheets_frozen_filtered(out: Path) -> None:
    wb = load_workbook(out / "minsheng.xlsx")
    assert wb.sheetnames == ["documents", "records", "facts", "checks"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
    assert wb["documents"].max_row == 5 and wb["checks"].max_row == 8


def test_numbers_are_numbers(out: Path) -> None:
    wb = load_workbook(out / "minsheng.xlsx")
    ws = wb["checks"]
    head = [c.value for c in ws[1]]
    row = {h: c for h, c in zip(head, ws[3])}   # the 130.52% ratio
    assert row["reported"].value == 130.52 and row["reported"].data_type == "n"
    assert row["numerator"].value == 7988 and row["numerator"].data_type == "n"
    assert row["figures"].data_type == "s"       # spans as readable text
    facts = wb["facts"]
    fh = [c.value for c in facts[1]]
    assert all(isinstance(facts.cell(r, fh.index("value") + 1).value, (int, float))
               for r in range(2, facts.max_row + 1))
    assert wb["documents"].cell(2, head.index("doc") + 1).value == "000_yc.txt"


def test_cjk_columns_are_wider(out: Path) -> None:
    ws = load_workbook(out / "minsheng.xlsx")["records"]
    head = [c.value for c in ws[1]]
    from openpyxl.utils import get_column_letter
    w = {h: ws.column_dimensions[get_column_letter(i + 1)].width for i, h in enumerate(head)}
    assert w["project"] > w["unit"]
    # capped at 60 characters; the file stores Excel's width, which adds a cell's padding
    assert 60 <= w["evidence"] < 61
    assert display_width("运城市") == 6 and display_width("abc") == 3


def test_parquet_round_trips(out: Path) -> None:
    tables = load_run(out)
    for name in ("documents", "records", "facts", "checks"):
        t = pq.read_table(out / "parquet" / f"{name}.parquet")
        assert t.num_rows == len(tables[name])
        assert t.column_names[0] == "doc"
    checks = pq.read_table(out / "parquet" / "checks.parquet")
    assert checks.schema.field("parts").type == pa.list_(pa.float64())
    assert checks.schema.field("figures").type == pa.list_(pa.list_(pa.int64()))
    rows = checks.to_pylist()
    s = next(r for r in rows if r["kind"] == "sum")
    assert s["parts"] == [300.0, 6125.0, 865.0]
    assert next(r for r in rows if r["kind"] == "cross_doc")["doc_b"] == "000_yc.txt"
    docs = pq.read_table(out / "parquet" / "documents.parquet")
    assert docs.schema.field("year").type == pa.int64()
    assert docs.to_pylist()[3]["error"].startswith("the PDF is encrypted")


def test_numeric_strings_and_odd_values_survive() -> None:
    rows = [{"doc": "a", "kind": "sum", "reported": "7285", "parts": ["300", 6125], "figures": [],
             "evidence": "x\x01y", "extra": {"k": 1}},
            {"doc": "b", "kind": "ratio", "reported": 1.5, "parts": None, "figures": [[1, 2]],
             "evidence": None, "extra": "plain"}]
    t = to_arrow(rows, "checks")
    assert t.column("reported").to_pylist() == [7285.0, 1.5]
    assert t.column("parts").to_pylist() == [[300.0, 6125.0], None]
    assert t.column("extra").to_pylist() == ['{"k": 1}', "plain"]


def test_empty_run_still_exports(tmp_path: Path) -> None:
    (tmp_path / "documents.jsonl").write_text(
        json.dumps({"doc": "a.txt", "status": "failed", "error": "empty file"}) + "\n", encoding="utf-8")
    write_exports(tmp_path)
    assert load_workbook(tmp_path / "minsheng.xlsx")["facts"].max_row == 1
    assert pq.read_table(tmp_path / "parquet" / "facts.parquet").num_rows == 0


def test_not_a_run_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="minsheng run"):
        write_exports(tmp_path)


def test_past_excels_rows_the_workbook_is_skipped_saying_why(out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.export as ex
    assert (out / "minsheng.xlsx").exists()
    monkeypatch.setattr(ex, "XLSX_MAX_ROWS", 7)      # facts 18 rows, checks 7 (+ header)
    with pytest.warns(ex.OutputNote, match=r"facts has 18 rows, checks has 7 rows, over Excel.s 7 rows"):
        write_exports(out)
    assert not (out / "minsheng.xlsx").exists()       # no stale workbook left behind
    assert pq.read_table(out / "parquet" / "facts.parquet").num_rows == 18


def test_run_prints_the_skipped_workbook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.export as ex
    from pipeline import run as runmod
    monkeypatch.setattr(ex, "XLSX_MAX_ROWS", 2)
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("运城市2019年民生实事\n1.新建幼儿园。全市今年计划新建50所,已建成20所,完成率40%。\n",
                               encoding="utf-8")
    s = runmod.run([src], runmod.RunOptions(out=tmp_path / "out", jobs=1, quiet=True, progress=False))
    assert [w for w in s.warnings if "minsheng.xlsx not written" in w], s.warnings
    assert (tmp_path / "out" / "report.html").exists()


def test_streamed_parquet_equals_to_arrow(out: Path) -> None:
    """The batch writer picks the same types as to_arrow over the whole table."""
    import pipeline.export as ex
    tables = load_run(out)
    for name in ("documents", "records", "facts", "checks"):
        whole = to_arrow(tables[name], name)
        got = pq.read_table(out / "parquet" / f"{name}.parquet")
        assert got.schema == whole.schema and got.to_pylist() == whole.to_pylist(), name
    assert ex.PARQUET_BATCH > 0
