"""Reposts: near-identical documents are marked duplicate_of the first, their figures
kept, their checks counted once; a copy whose figures differ is no repost."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import run as runmod
from pipeline.dedup import Reposts, fingerprint

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
REPORT = "000_faf12b3e7780e305.txt"
NOTICE = "002_432e44caca16cd51.txt"


def repost_of(text: str) -> str:
    """What a portal makes of a report: its chrome around it, other line breaks and
    spacing, half-width punctuation turned full width."""
    body = text.replace(",", "，").replace(":", "：").replace("\n\n", "\n").replace("。", "。 ")
    return ("首页 > 新闻中心 > 政务公开\n来源：运城新闻网  发布时间：2019-11-02  【字体：大 中 小】\n"
            + body + "\n【打印本页】【关闭窗口】\n")


def test_reposts_unit() -> None:
    text = (SEEDS / REPORT).read_text(encoding="utf-8")
    facts = [{"kind": "target", "value": 221, "unit": "条"}, {"kind": "actual", "value": 98, "unit": "条"}]
    r = Reposts()

    def first_of(doc: str, text: str, facts: list[dict]) -> str | None:
        return r.first_of(doc, text, fingerprint(text, facts))
    assert first_of("a.txt", text, facts) is None
    assert first_of("b.txt", repost_of(text), list(reversed(facts))) == "a.txt"
    # the same words, one figure changed: a revision to audit, not a repost
    changed = [{**facts[0], "value": 230}, facts[1]]
    assert first_of("c.txt", text.replace("221", "230"), changed) is None
    # an unrelated document
    other = (SEEDS / NOTICE).read_text(encoding="utf-8")
    assert first_of("d.txt", other, facts) is None


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("in")
    report = (SEEDS / REPORT).read_text(encoding="utf-8")
    (src / REPORT).write_text(report, encoding="utf-8")
    (src / NOTICE).write_text((SEEDS / NOTICE).read_text(encoding="utf-8"), encoding="utf-8")
    (src / "100_repost.txt").write_text(repost_of(report), encoding="utf-8")
    (src / "101_repost_gbk.txt").write_bytes(repost_of(report).encode("gb18030"))
    return src


def run(src: Path, out: Path, jobs: int, post_run: bool = False) -> runmod.RunSummary:
    return runmod.run([src], runmod.RunOptions(out=out, jobs=jobs, quiet=True, progress=False,
                                               post_run=post_run))


def rows(out: Path, table: str) -> list[dict]:
    return [json.loads(x) for x in (out / f"{table}.jsonl").read_text("utf-8").splitlines()]


def test_a_reposted_document_is_marked_and_adds_no_finding(folder: Path, tmp_path: Path) -> None:
    s = run(folder, tmp_path / "out", 2)
    docs = {d["doc"]: d for d in rows(tmp_path / "out", "documents")}
    assert docs["100_repost.txt"]["duplicate_of"] == REPORT
    assert docs["101_repost_gbk.txt"]["duplicate_of"] == REPORT
    assert "duplicate_of" not in docs[REPORT] and "duplicate_of" not in docs[NOTICE]
    assert s.reposts == 2
    checks = rows(tmp_path / "out", "checks")
    facts = rows(tmp_path / "out", "facts")
    # figures kept: the repost has as many as its original
    n_facts = {d: sum(f["doc"] == d for f in facts) for d in docs}
    assert n_facts["100_repost.txt"] == n_facts[REPORT] > 0
    # the reposts add no cross-document finding: the same as a run without them
    alone = tmp_path / "alone"
    alone.mkdir()
    for d in (REPORT, NOTICE):
        (alone / d).write_bytes((folder / d).read_bytes())
    s1 = run(alone, tmp_path / "out1", 1)
    cross = [c for c in checks if c["kind"] == "cross_doc"]
    cross1 = [c for c in rows(tmp_path / "out1", "checks") if c["kind"] == "cross_doc"]
    assert cross == cross1 and cross
    assert not any("repost" in json.dumps(c, ensure_ascii=False) for c in cross)
    # the summary counts each check once
    assert (s.checks, s.inconsistent) == (s1.checks, s1.inconsistent)
    assert s.facts > s1.facts


def test_marking_does_not_depend_on_workers(folder: Path, tmp_path: Path) -> None:
    run(folder, tmp_path / "a", 1)
    s = run(folder, tmp_path / "b", 2, post_run=True)
    assert (tmp_path / "a" / "documents.jsonl").read_bytes() == \
        (tmp_path / "b" / "documents.jsonl").read_bytes()
    # the report counts what the run's summary counts: each check once
    import lxml.html
    page = lxml.html.fromstring((tmp_path / "b" / "report.html").read_text(encoding="utf-8"))
    assert page.get_element_by_id("n-checks").text_content() == str(s.checks)
    assert page.get_element_by_id("n-inconsistent").text_content() == str(s.inconsistent)
    assert page.get_element_by_id("n-reposts").text_content() == "2"


def test_a_workers_fingerprint_gives_the_same_answer() -> None:
    """A worker's fingerprint is read without its permutations; a fingerprint without a
    signature (its worker failed to compute one) makes the parent compute it."""
    text = (SEEDS / REPORT).read_text(encoding="utf-8")
    facts = [{"kind": "target", "value": 221, "unit": "条"}]
    r = Reposts()
    assert r.first_of("a.txt", text, fingerprint(text, facts)) is None
    copy = repost_of(text)
    assert r.first_of("b.txt", copy, {**fingerprint(copy, facts), "minhash": None}) == "a.txt"
    assert r.first_of("c.txt", copy, fingerprint(copy, facts)) == "a.txt"
    assert fingerprint(copy, facts) == fingerprint(copy, facts)   # any process: CRC32, fixed seed
