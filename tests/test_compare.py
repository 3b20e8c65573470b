"""compare(): the cross-city dataset in DuckDB, CSV, Parquet, and a chart."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

import pipeline.compare as cmp
from pipeline.compare import compare, comparison_rows, merge_projects
from test_report_data import make_out


def second_run(root: Path) -> Path:
    """Another city's run: 洛阳市 2020, made by rewriting the fixture's records."""
    out = make_out(root)
    for name in ("documents", "records"):
        rows = [json.loads(x) for x in (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()]
        for r in rows:
            if r.get("city"):
                r["city"], r["year"] = "洛阳市", 2020
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                           encoding="utf-8")
    return out


@pytest.fixture()
def result(tmp_path: Path) -> Path:
    a = make_out(tmp_path / "a")
    b = second_run(tmp_path / "b")
    dest = tmp_path / "cmp"
    compare([a, b], dest)
    return dest


def test_duckdb_has_tables_with_city_year_category(result: Path) -> None:
    con = duckdb.connect(str(result / "minsheng.duckdb"), read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert {"documents", "records", "checks", "comparison"} <= tables
        cols = {r[0] for r in con.execute("DESCRIBE comparison").fetchall()}
        assert {"city", "year", "category", "indicator", "target", "actual", "rate", "documents"} <= cols
        assert con.execute("SELECT count(DISTINCT city) FROM comparison").fetchone()[0] == 3
        row = con.execute("SELECT target, actual, rate, documents FROM comparison "
                          "WHERE city='运城市' AND year=2019 AND category='城市建设'").fetchone()
        # 小街小巷 in the notice (186) and the report (221, 98 done): counted once, the report's figures
        assert row[:3] == (221.0, 98.0, 44.34)
        assert row[3] == "000_yc.txt; 002_notice.txt"
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 8
        assert con.execute("SELECT count(*) FROM checks WHERE kind='cross_doc'").fetchone()[0] == 2
        assert con.execute("SELECT typeof(year) FROM records LIMIT 1").fetchone()[0] == "BIGINT"
    finally:
        con.close()


def test_csv_and_parquet(result: Path) -> None:
    raw = (result / "comparison.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    head = raw.decode("utf-8-sig").splitlines()[0].split(",")
    assert head[:4] == ["city", "province", "year", "category"]
    t = pq.read_table(result / "comparison.parquet")
    assert t.num_rows == len(raw.decode("utf-8-sig").splitlines()) - 1
    assert "医疗卫生" in t.column("category").to_pylist()


def test_chart_is_a_png(result: Path) -> None:
    png = (result / "completion_by_category.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_summary_is_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    compare([make_out(tmp_path)], tmp_path / "cmp")
    out = capsys.readouterr().out
    assert "运城市" in out and "城市建设" in out


def test_missing_font_warns_once_and_still_draws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cmp, "cjk_font", lambda: None)
    compare([make_out(tmp_path)], tmp_path / "cmp")
    err = capsys.readouterr().err
    assert err.count("fonts-noto-cjk") == 1
    assert (tmp_path / "cmp" / "completion_by_category.png").stat().st_size > 0


@pytest.mark.skipif(not shutil.which("fc-list"), reason="fontconfig not installed")
def test_finds_an_installed_cjk_font() -> None:
    import subprocess
    if not subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip():
        pytest.skip("no CJK font installed: apt-get install fonts-noto-cjk")
    assert cmp.cjk_font()


def test_merge_later_document_wins_and_fills() -> None:
    recs = [{"doc": "plan", "city": "X市", "year": 2019, "period_end": None, "project": "新建60个日间照料中心项目",
             "unit": "个", "indicator": None, "target": 60, "actual": None, "amount_yuan": 6000000},
            {"doc": "q3", "city": "X市", "year": 2019, "period_end": "2019-09-30", "project": "新建日间照料中心",
             "unit": "个", "indicator": None, "target": 60, "actual": 49, "amount_yuan": None}]
    [m] = merge_projects(recs)
    assert (m["target"], m["actual"], m["amount_yuan"], m["documents"]) == (60, 49, 6000000, ["plan", "q3"])
    [row] = comparison_rows(recs)
    assert row["category"] == "其他" and row["rate"] == 81.67 and row["indicator"] == "数量（个）"


def test_no_runs_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least one run"):
        compare([], tmp_path)
    with pytest.raises(FileNotFoundError, match="documents.jsonl"):
        compare([tmp_path / "nope"], tmp_path / "cmp")


def test_parent_total_is_not_counted_beside_its_sub_items() -> None:
    base = {"doc": "r", "city": "X市", "year": 2019, "period_end": "2019-09-30", "category": "医疗卫生",
            "project": "实施7285名残疾儿童康复项目", "unit": "名", "actual": None}
    recs = [{**base, "sub_item": None, "target": 7285},
            {**base, "sub_item": "为300名儿童筛查", "target": 300, "actual": 389},
            {**base, "sub_item": "为865名儿童康复", "target": 865, "actual": 929, "unit": "人"}]
    [row] = comparison_rows(recs)
    assert (row["indicator"], row["projects"], row["target"], row["actual"]) == ("人数", 2, 1165, 1318)


def test_one_definition_of_each_figure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The chart draws the table's rate; indicators say what is counted; a city's
    inconsistent count is the report's."""
    import lxml.html
    from pipeline.report import write_report
    from test_report_data import q
    out = make_out(tmp_path / "a")
    drawn = {}
    real = cmp.write_chart
    def spy(data, path, font):
        drawn.update(data)
        real(data, path, font)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(cmp, "write_chart", spy)
        compare([out], tmp_path / "cmp")
    con = duckdb.connect(str(tmp_path / "cmp" / "minsheng.duckdb"), read_only=True)
    try:
        table = {(f"{c} {y}", f"{cat} · {ind}"): rate for c, y, cat, ind, rate in con.execute(
            "SELECT city, year, category, indicator, rate FROM comparison WHERE rate IS NOT NULL").fetchall()}
        indicators = {r[0] for r in con.execute("SELECT indicator FROM comparison").fetchall()}
        cities = dict(con.execute("SELECT city, inconsistent FROM cities").fetchall())
    finally:
        con.close()
    assert table and {(s, c): v for s, cats in drawn.items() for c, v in cats.items()} == table
    # 运城 医疗卫生 (两癌 40047 of 44400): the computed 90.2, not the reported 90.12
    assert table[("运城市 2019", "医疗卫生 · 人数")] == 90.2
    assert indicators <= {"人数", "资金", "数量（条）", "数量（处）", "数量（个）", "人次"}, indicators
    page = lxml.html.fromstring(write_report(out).read_text(encoding="utf-8"))
    shown = {tr.get("data-city"): int(q(tr, "td")[3].text_content())
             for tr in q(page, "table.by-city tbody tr")}
    assert cities == shown and cities["运城市"] == 4
    assert "运城市" in capsys.readouterr().out
    head = (tmp_path / "cmp" / "cities.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert head == "city,documents,reposts,inconsistent,behind"


def test_reposts_are_not_counted_twice(tmp_path: Path) -> None:
    """A repost of the report (its rows copied, duplicate_of set) changes no figure."""
    out = make_out(tmp_path / "a")
    compare([out], tmp_path / "before")
    tables = {t: [json.loads(x) for x in (out / f"{t}.jsonl").read_text("utf-8").splitlines()]
              for t in ("documents", "records", "checks")}
    doc = next(d for d in tables["documents"] if d["doc"] == "000_yc.txt")
    tables["documents"].append({**doc, "doc": "900_repost.txt", "duplicate_of": "000_yc.txt"})
    for t in ("records", "checks"):
        tables[t] += [{**r, "doc": "900_repost.txt"} for r in tables[t] if r["doc"] == "000_yc.txt"]
    for t, rows in tables.items():
        (out / f"{t}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                        encoding="utf-8")
    compare([out], tmp_path / "after")
    for name in ("comparison.csv",):
        assert (tmp_path / "after" / name).read_text("utf-8-sig") == \
            (tmp_path / "before" / name).read_text("utf-8-sig")
    before = (tmp_path / "before" / "cities.csv").read_text("utf-8-sig").splitlines()
    after = (tmp_path / "after" / "cities.csv").read_text("utf-8-sig").splitlines()
    assert before[1:] != after[1:] and [a.split(",")[3:] for a in after] == [b.split(",")[3:] for b in before]
