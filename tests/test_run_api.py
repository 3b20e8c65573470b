"""minsheng.extract / extract_text: the notebook API (stand-in process)."""
from __future__ import annotations

import pytest

import minsheng
from test_run import STUB_RULES, fake_process


@pytest.fixture
def api(monkeypatch):
    import pipeline.process
    monkeypatch.setattr(pipeline.process, "process", fake_process)
    monkeypatch.setattr(minsheng, "_rules", lambda rules_dir: STUB_RULES)


def test_extract_file_gives_rows_and_frames(api, tmp_path):
    p = tmp_path / "r.txt"
    p.write_text("完成 12 个, 计划 30 个", encoding="utf-8")
    r = minsheng.extract(p)
    assert r.ok and r.document["doc"] == "r.txt"
    assert [f["value"] for f in r.facts] == [12, 30]          # sorted by offset, plain ints
    df = r.facts_df()
    assert list(df["value"]) == [12, 30]
    assert r.checks_df().loc[0, "verdict"] == "inconsistent"
    assert r.records_df().loc[0, "actual"] == 2.5
    assert "2 figures" in repr(r)


def test_extract_text_and_failed_doc(api):
    r = minsheng.extract_text("42")
    assert r.facts[0]["value"] == 42 and r.text == "42"
    bad = minsheng.extract_text("READFAIL", name="x.pdf")
    assert not bad.ok and bad.error == "cannot read as pdf"
    assert bad.facts_df().empty and "value" in bad.facts_df().columns
    assert "failed" in repr(bad)
