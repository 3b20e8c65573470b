"""The post-run outputs on the real seeds (shared/seeds beside the repo): the report
shows each real error with its evidence, the cross-document conflict is found, the
workbook, Parquet and the comparison database are written."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lxml.html
import pytest
from openpyxl import load_workbook

from test_report_data import q

REPO = Path(__file__).resolve().parents[1]
SEEDS = next((p for p in (REPO.parent / "shared" / "seeds", Path("/work/shared/seeds")) if p.is_dir()), None)
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(SEEDS is None, reason="shared/seeds is not beside the repo")]


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seeds") / "out"
    p = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(SEEDS), "-o", str(out), "-q"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return out


def test_report_shows_each_real_error(run_out: Path) -> None:
    page = lxml.html.fromstring((run_out / "report.html").read_text(encoding="utf-8"))
    probs = [p for p in q(page, "article.problem") if p.get("data-verdict") == "inconsistent"]
    def find(kind: str, figure: str) -> lxml.html.HtmlElement:
        hits = [p for p in probs if p.get("data-kind") == kind and figure in q(p, "div.figs")[0].text_content()]
        assert hits, f"no inconsistent {kind} check reporting {figure} in report.html"
        return hits[0]
    for kind, figure, marked in (("ratio", "130.52%", "7988名"), ("ratio", "90.12%", "40047人"),
                                 ("sum", "7285", "865名"), ("sum", "2000", "290场")):
        art = find(kind, figure)
        marks = [m.text_content() for m in q(art, "blockquote.evidence mark")]
        assert marked in marks, (figure, marks)
    cross = find("cross_doc", "186")
    assert "221" in q(cross, "div.figs")[0].text_content()


def test_checks_hold_schedule_and_cross_doc(run_out: Path) -> None:
    checks = [json.loads(x) for x in (run_out / "checks.jsonl").read_text(encoding="utf-8").splitlines()]
    cross = [c for c in checks if c["kind"] == "cross_doc"]
    assert [(c["reported"], c["computed"]) for c in cross] == [(186, 221)]
    assert cross[0]["doc_b"].startswith("000_") and cross[0]["doc"].startswith("002_")
    assert any(c["kind"] == "schedule" and c["verdict"] == "behind" for c in checks)


def test_workbook_and_parquet(run_out: Path) -> None:
    wb = load_workbook(run_out / "minsheng.xlsx", read_only=True)
    assert wb.sheetnames == ["documents", "records", "facts", "checks"]
    for t in ("documents", "records", "facts", "checks"):
        assert (run_out / "parquet" / f"{t}.parquet").stat().st_size > 0


def test_compare_on_the_seeds(run_out: Path, tmp_path: Path) -> None:
    import duckdb
    from pipeline.compare import compare
    compare([run_out], tmp_path / "cmp")
    con = duckdb.connect(str(tmp_path / "cmp" / "minsheng.duckdb"), read_only=True)
    try:
        cities = {r[0] for r in con.execute("SELECT DISTINCT city FROM comparison").fetchall()}
        assert "运城市" in cities
        cats = {r[0] for r in con.execute("SELECT DISTINCT category FROM comparison WHERE city='运城市'").fetchall()}
        assert {"养老", "文化体育", "医疗卫生", "城市建设", "就业"} <= cats
    finally:
        con.close()
    assert (tmp_path / "cmp" / "completion_by_category.png").stat().st_size > 5000
