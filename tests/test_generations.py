"""OUT changes as a whole (issue 11): a run interrupted at any moment leaves documents.jsonl,
its CSV, run.json, the Parquet files and the workbook agreeing on the documents, and the
message says which generation OUT holds. Stand-in process() (test_run's), real post-run
steps (report.html, minsheng.xlsx, Parquet)."""
from __future__ import annotations

import csv
import json
import os
import signal
import sys
import types
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from pipeline import run as runmod
from pipeline import write

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_run import GOOD, STUB_RULES, fake_process, make_inputs, opts  # noqa: E402

REAL_POST_RUN = list(runmod.POST_RUN)


@pytest.fixture
def stub(monkeypatch):
    import pipeline.process
    monkeypatch.setattr(pipeline.process, "process", fake_process)
    monkeypatch.setattr(runmod, "_load_rules", lambda rules_dir: STUB_RULES)
    monkeypatch.setattr(runmod, "POST_RUN", REAL_POST_RUN)
    fake_cross = types.ModuleType("pipeline.crossdoc")
    fake_cross.cross_doc_checks = lambda records: []
    fake_cross.read_jsonl = lambda p: [json.loads(x) for x in Path(p).read_text("utf-8").splitlines()]
    monkeypatch.setitem(sys.modules, "pipeline.crossdoc", fake_cross)
    return monkeypatch


def agreed_documents(out: Path) -> list[str]:
    """The documents OUT holds, after checking that every output names the same ones."""
    jsonl = [json.loads(x)["doc"] for x in (out / "documents.jsonl").read_text("utf-8").splitlines()]
    with open(out / "documents.csv", encoding="utf-8-sig", newline="") as f:
        from_csv = [r["doc"] for r in csv.DictReader(f)]
    info = json.loads((out / "run.json").read_text("utf-8"))
    parquet = pq.read_table(out / "parquet" / "documents.parquet").column("doc").to_pylist()
    ws = load_workbook(out / "minsheng.xlsx", read_only=True)["documents"]
    xlsx = [r[0] for r in ws.iter_rows(min_row=2, values_only=True)]
    facts = {json.loads(x)["doc"] for x in (out / "facts.jsonl").read_text("utf-8").splitlines()}
    texts = sorted(str(p.relative_to(out / "texts"))[:-4] for p in (out / "texts").rglob("*.txt"))
    gen = write.read_generation(out)
    assert from_csv == jsonl
    assert list(info["files"]) == jsonl and info["documents"] == len(jsonl)
    assert parquet == jsonl and xlsx == jsonl
    assert facts <= set(jsonl) and texts == sorted(jsonl)
    assert gen is not None and gen["generation"] == info["generation"]
    assert gen["documents"] == len(jsonl)
    assert not (out / write.JOURNAL).exists()
    return jsonl


OLD = ["a/c.txt", "b.txt", "d.txt"]
NEW = ["a/c.txt", "b.txt", "d.txt", "e.txt"]


def _first_run(tmp_path: Path) -> tuple[Path, Path, str]:
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    runmod.run([src], opts(out, jobs=1))
    assert agreed_documents(out) == OLD
    (src / "e.txt").write_text("新的 7 个", encoding="utf-8")
    return src, out, write.read_generation(out)["generation"]


def _sigint(*a, **k):
    os.kill(os.getpid(), signal.SIGINT)     # a real Ctrl-C, delivered to this process


def test_interrupt_while_checking_across_documents_keeps_previous(stub, tmp_path):
    src, out, old = _first_run(tmp_path)
    stub.setattr(runmod, "_cross_doc", _sigint)
    with pytest.raises(runmod.Interrupted) as e:
        runmod.run([src], opts(out, jobs=1))
    assert agreed_documents(out) == OLD
    assert "previous outputs" in e.value.message and old in e.value.message
    assert "3 documents" in e.value.message
    assert not list(out.glob(".tmp-*"))


def test_interrupt_during_post_run_keeps_previous(stub, tmp_path):
    src, out, old = _first_run(tmp_path)
    hooks = types.ModuleType("minsheng_test_sigint")
    hooks.stop = _sigint
    stub.setitem(sys.modules, "minsheng_test_sigint", hooks)
    # after report.html is written in the stage, before the workbook and Parquet
    stub.setattr(runmod, "POST_RUN", [REAL_POST_RUN[0], "minsheng_test_sigint:stop",
                                      *REAL_POST_RUN[1:]])
    with pytest.raises(runmod.Interrupted) as e:
        runmod.run([src], opts(out, jobs=1))
    assert agreed_documents(out) == OLD
    assert "previous outputs" in e.value.message and old in e.value.message
    assert "e.txt" not in (out / "report.html").read_text("utf-8")


def test_interrupt_while_swapping_in_completes_the_new_generation(stub, tmp_path):
    src, out, old = _first_run(tmp_path)
    real_replace, moves = os.replace, []

    def replace_then_sigint(a, b, *rest, **kw):
        real_replace(a, b, *rest, **kw)
        if Path(b).parent == out:
            moves.append(Path(b).name)
            if len(moves) == 2:      # Ctrl-C half-way through the swap: held until it ends
                os.kill(os.getpid(), signal.SIGINT)
    stub.setattr(write.os, "replace", replace_then_sigint)
    with pytest.raises(runmod.Interrupted) as e:
        runmod.run([src], opts(out, jobs=1))
    stub.setattr(write.os, "replace", real_replace)
    assert len(moves) > 2                       # the swap went on after the signal
    assert agreed_documents(out) == NEW
    new = write.read_generation(out)["generation"]
    assert new != old and new in e.value.message and "this run's outputs" in e.value.message


class Crash(BaseException):
    """Stands for SIGKILL or power loss: no handler, no cleanup runs."""


def _crash_swapping_in(stub, src: Path, out: Path, after: int) -> None:
    """A run that dies (no cleanup) after `after` files of its generation were moved into OUT."""
    real_replace, moves = os.replace, []

    def replace_then_crash(a, b, *rest, **kw):
        if Path(b).parent == out and len(moves) == after:
            raise Crash
        real_replace(a, b, *rest, **kw)
        if Path(b).parent == out:
            moves.append(Path(b).name)
    stub.setattr(write.os, "replace", replace_then_crash)
    with pytest.raises(Crash):
        runmod.run([src], opts(out, jobs=1))
    stub.setattr(write.os, "replace", real_replace)


def test_crash_while_swapping_in_is_finished_by_the_next_reader(stub, tmp_path):
    src, out, old = _first_run(tmp_path)
    _crash_swapping_in(stub, src, out, after=3)
    assert (out / write.JOURNAL).exists()       # half-swapped: the record of what is left
    with pytest.raises(AssertionError):
        agreed_documents(out)
    # `minsheng compare` (or the next run) finishes the swap before reading
    assert "finished swapping in" in runmod.settle(out)
    assert agreed_documents(out) == NEW
    assert write.read_generation(out)["generation"] != old
    assert runmod.settle(out) is None


def test_next_run_finishes_a_crashed_swap_first(stub, tmp_path):
    src, out, _ = _first_run(tmp_path)
    _crash_swapping_in(stub, src, out, after=1)
    s = runmod.run([src], opts(out, jobs=1))
    assert any("finished swapping in" in w for w in s.warnings)
    assert agreed_documents(out) == NEW


def test_no_report_run_removes_the_previous_report(stub, tmp_path):
    src, out, _ = _first_run(tmp_path)
    runmod.run([src], opts(out, jobs=1, post_run=False))
    # a workbook of 3 documents beside tables of 4 would disagree: gone with its generation
    for name in ("report.html", "minsheng.xlsx", "parquet"):
        assert not (out / name).exists(), name
    assert [json.loads(x)["doc"] for x in
            (out / "documents.jsonl").read_text("utf-8").splitlines()] == NEW
    assert write.read_generation(out)["outputs"] == sorted(
        [f"{t}.{e}" for t in write.TABLES for e in ("jsonl", "csv")] + ["run.json", "texts"])


def test_interrupt_before_any_output_says_so(stub, tmp_path):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    stub.setattr(runmod, "_cross_doc", _sigint)
    with pytest.raises(runmod.Interrupted) as e:
        runmod.run([src], opts(out, jobs=1))
    assert "holds no outputs yet" in e.value.message
    assert not (out / "documents.jsonl").exists()
