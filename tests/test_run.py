"""run.py with a stand-in process(): pool, isolation, timeout, memory cap, cache,
byte-identical re-runs, Ctrl-C safety, post-run hooks. No timings asserted."""
from __future__ import annotations

import json
import os
import re
import signal
import sys
import time
import types
from decimal import Decimal
from pathlib import Path

import pytest

from pipeline import run as runmod
from pipeline import write
from pipeline.types import Check, DocResult, Fact

STUB_RULES = types.SimpleNamespace(hash="stub0001")


def fake_process(doc: str, name: str, data: bytes, rules) -> DocResult:
    """Numbers become count facts; keywords trigger misbehaviour."""
    text = data.decode("utf-8", "replace")
    if "RAISE" in text:
        raise ValueError("boom\nsecond line of the message")
    if "SLEEP" in text:
        time.sleep(3600)
    if "HOG" in text:
        hog = bytearray(6 * 2**30)      # over the worker's memory cap
        hog[-1] = 1
    if "CRASH" in text:                 # a library dying in C code
        os.kill(os.getpid(), signal.SIGKILL)
    if "READFAIL" in text:
        return DocResult(document={"doc": doc, "status": "failed",
                                   "error": "cannot read as pdf", "format": "pdf"})
    facts = [Fact(doc=doc, kind="count", value=Decimal(m.group()), unit="个", approx=False,
                  text=m.group(), start=m.start(), end=m.end())
             for m in re.finditer(r"\d+(?:\.\d+)?", text)][::-1]       # unsorted on purpose
    checks = [Check(doc=doc, kind="sum", verdict="inconsistent", reported=f.value,
                    computed=f.value + 1, evidence=text[:10], start=f.start, end=f.end,
                    parts=[f.value, Decimal(1)]) for f in facts[:1]]
    document = {"doc": doc, "status": "ok", "error": None, "format": "txt",
                "script": "simplified", "city": None, "province": None, "year": None,
                "period_end": None}
    return DocResult(document=document, text=text, facts=facts, checks=checks,
                     records=[{"project": "p", "target": Decimal("10"),
                               "actual": Decimal("2.5")}])


@pytest.fixture
def stub(monkeypatch):
    """Stand-in rules and process; no crossdoc or post-run steps (they have own tests)."""
    import pipeline.process
    monkeypatch.setattr(pipeline.process, "process", fake_process)
    monkeypatch.setattr(runmod, "_load_rules", lambda rules_dir: STUB_RULES)
    monkeypatch.setattr(runmod, "POST_RUN", [])
    fake_cross = types.ModuleType("pipeline.crossdoc")
    fake_cross.cross_doc_checks = lambda records: []
    monkeypatch.setitem(sys.modules, "pipeline.crossdoc", fake_cross)
    return monkeypatch


def make_inputs(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


GOOD = {"b.txt": "完成 12 个, 计划 30 个", "a/c.txt": "已完成 5 个 7.5", "d.txt": "42"}

OUTPUT_NAMES = [f"{t}.{ext}" for t in write.TABLES for ext in ("jsonl", "csv")]


def snapshot(out: Path) -> dict[str, bytes]:
    files = {n: (out / n).read_bytes() for n in OUTPUT_NAMES}
    for p in sorted((out / "texts").rglob("*")):
        if p.is_file():
            files[str(p.relative_to(out))] = p.read_bytes()
    return files


def rows(out: Path, table: str) -> list[dict]:
    return [json.loads(x) for x in (out / f"{table}.jsonl").read_text("utf-8").splitlines()]


def opts(out: Path, **kw) -> runmod.RunOptions:
    kw.setdefault("jobs", 2)
    kw.setdefault("timeout", 60)
    return runmod.RunOptions(out=out, quiet=True, progress=False, **kw)


def test_run_writes_sorted_outputs(stub, tmp_path):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    s = runmod.run([src], opts(out))
    assert (s.documents, s.ok, s.failed, s.exit_code) == (3, 3, 0, 0)
    assert s.facts == 5 and s.checks == 3 and s.inconsistent == 3
    docs = rows(out, "documents")
    assert [d["doc"] for d in docs] == ["a/c.txt", "b.txt", "d.txt"]
    assert all(d["rules_hash"] == "stub0001" and len(d["sha256"]) == 64 for d in docs)
    assert all("seconds" not in d for d in docs)
    facts = rows(out, "facts")
    assert [(f["doc"], f["start"]) for f in facts] == sorted((f["doc"], f["start"])
                                                             for f in facts)
    assert (out / "texts" / "a" / "c.txt.txt").read_text("utf-8") == GOOD["a/c.txt"]
    info = json.loads((out / "run.json").read_text("utf-8"))
    assert set(info["files"]) == {"a/c.txt", "b.txt", "d.txt"}
    assert "seconds" in info["files"]["b.txt"]


def test_rerun_is_cached_and_byte_identical(stub, tmp_path):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    runmod.run([src], opts(out))
    first = snapshot(out)
    s = runmod.run([src], opts(out, jobs=1))
    assert s.cached == 3
    assert snapshot(out) == first
    s = runmod.run([src], opts(out, force=True))
    assert s.cached == 0
    assert snapshot(out) == first


def test_changed_file_is_redone_alone(stub, tmp_path):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    runmod.run([src], opts(out))
    (src / "d.txt").write_text("43 44", encoding="utf-8")
    s = runmod.run([src], opts(out))
    assert s.cached == 2
    assert [f["value"] for f in rows(out, "facts") if f["doc"] == "d.txt"] == [43, 44]
    # the stale entry of the old d.txt is pruned
    assert len(list((out / ".cache").glob("*/*.json"))) == 3


def test_exception_becomes_one_line_failed_row(stub, tmp_path):
    src = make_inputs(tmp_path / "in", {**GOOD, "bad.txt": "RAISE", "r.pdf": "READFAIL"})
    out = tmp_path / "out"
    s = runmod.run([src], opts(out))
    assert s.exit_code == 1 and s.failed == 2 and s.ok == 3
    bad = {d["doc"]: d for d in rows(out, "documents") if d["status"] == "failed"}
    assert "ValueError: boom" in bad["bad.txt"]["error"]
    assert "\n" not in bad["bad.txt"]["error"]
    assert bad["r.pdf"]["error"] == "cannot read as pdf"


def test_hang_becomes_timed_out_row(stub, tmp_path):
    src = make_inputs(tmp_path / "in", {**GOOD, "hang.txt": "SLEEP"})
    out = tmp_path / "out"
    s = runmod.run([src], opts(out, timeout=1.5))
    docs = {d["doc"]: d for d in rows(out, "documents")}
    assert docs["hang.txt"]["status"] == "failed"
    assert docs["hang.txt"]["error"].startswith("timed out after 1.5 s")
    assert s.ok == 3 and s.exit_code == 1
    # a timeout is not cached (it may be the machine), and the rerun says the same
    first = snapshot(out)
    runmod.run([src], opts(out, timeout=1.5))
    assert snapshot(out) == first


def test_worker_death_becomes_failed_row(stub, tmp_path):
    src = make_inputs(tmp_path / "in", {**GOOD, "crash.txt": "CRASH"})
    out = tmp_path / "out"
    s = runmod.run([src], opts(out))
    docs = {d["doc"]: d for d in rows(out, "documents")}
    assert "worker reading this file died (killed by signal 9)" in docs["crash.txt"]["error"]
    assert s.ok == 3 and s.failed == 1


def test_runaway_memory_becomes_failed_row(stub, tmp_path):
    import psutil
    src = make_inputs(tmp_path / "in", {**GOOD, "hog.txt": "HOG"})
    out = tmp_path / "out"
    # the forked worker starts at the parent's size; allow it 1 GB more than that
    cap = psutil.Process().memory_info().vms // 2**20 + 1024
    s = runmod.run([src], opts(out, max_memory_mb=cap))
    docs = {d["doc"]: d for d in rows(out, "documents")}
    assert docs["hog.txt"]["status"] == "failed"
    assert "memory" in docs["hog.txt"]["error"]
    assert s.ok == 3


def test_file_over_max_mb_refused_unread(stub, tmp_path, monkeypatch):
    src = make_inputs(tmp_path / "in", {**GOOD, "big.txt": "9" * 300_000})
    out = tmp_path / "out"
    s = runmod.run([src], opts(out, max_mb=0.1))
    docs = {d["doc"]: d for d in rows(out, "documents")}
    assert "over the limit of 0.1 MB" in docs["big.txt"]["error"]
    assert s.failed == 1


def test_no_inputs_is_usage_error(stub, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(runmod.UsageError, match="no input documents"):
        runmod.run([tmp_path / "empty"], opts(tmp_path / "out"))
    with pytest.raises(runmod.UsageError, match="not found"):
        runmod.run([tmp_path / "missing"], opts(tmp_path / "out"))
    with pytest.raises(runmod.UsageError, match="-j"):
        runmod.run([tmp_path / "empty"], opts(tmp_path / "out", jobs=0))


def test_output_folder_inside_input_is_not_read(stub, tmp_path):
    src = make_inputs(tmp_path / "in", GOOD)
    out = src / "out"
    runmod.run([src], opts(out))
    s = runmod.run([src], opts(out))
    assert s.documents == 3


def test_ctrl_c_while_processing_keeps_previous_outputs(stub, tmp_path, monkeypatch):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    runmod.run([src], opts(out))
    before = snapshot(out)
    (src / "new.txt").write_text("99", encoding="utf-8")
    (src / "b.txt").write_text("1 2 3", encoding="utf-8")

    def interrupt(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(runmod, "_record_result", interrupt)
    with pytest.raises(KeyboardInterrupt):
        runmod.run([src], opts(out))
    assert snapshot(out) == before
    assert not list(out.glob(".tmp-*"))


def test_ctrl_c_while_writing_keeps_previous_outputs(stub, tmp_path, monkeypatch):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    runmod.run([src], opts(out))
    before = snapshot(out)
    (src / "b.txt").write_text("1 2 3", encoding="utf-8")
    calls = []
    real_add = write.OutputWriter.add

    def add_then_interrupt(self, entry):
        calls.append(entry["doc"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        real_add(self, entry)
    monkeypatch.setattr(write.OutputWriter, "add", add_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        runmod.run([src], opts(out))
    assert snapshot(out) == before
    assert not list(out.glob(".tmp-*"))
    # resuming: the finished file is cached, the run completes with the new figures
    monkeypatch.setattr(write.OutputWriter, "add", real_add)
    s = runmod.run([src], opts(out))
    assert s.cached == 3
    assert [f["value"] for f in rows(out, "facts") if f["doc"] == "b.txt"] == [1, 2, 3]


def test_post_run_hooks_missing_or_failing_cost_nothing(stub, tmp_path, monkeypatch):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    hooks = types.ModuleType("minsheng_test_hooks")

    def ok(o):
        # a step runs on the stage of the new generation (the tables are there, whole),
        # maybe in a forked child: what it saw goes in the file it writes
        n = len((o / "documents.jsonl").read_text().splitlines())
        (o / "extra.txt").write_text(f"from a post-run step in {o.parent.name}, {n} rows")
    hooks.ok = ok

    def broken(o):
        raise RuntimeError("report template missing\nmore")
    hooks.broken = broken
    monkeypatch.setitem(sys.modules, "minsheng_test_hooks", hooks)
    monkeypatch.setattr(runmod, "POST_RUN", ["minsheng_test_hooks:broken",
                                             "pipeline.no_such_module:f",
                                             "minsheng_test_hooks:ok"])
    s = runmod.run([src], opts(out))
    # swapped in with them
    assert (out / "extra.txt").read_text() == "from a post-run step in out, 3 rows"
    assert any("RuntimeError: report template missing" in w for w in s.warnings)
    assert any("pipeline.no_such_module not available" in w for w in s.warnings)
    assert all("\n" not in w for w in s.warnings)
    assert len(rows(out, "documents")) == 3


def test_cross_doc_checks_appended(stub, tmp_path, monkeypatch):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    got = []
    fake = types.ModuleType("pipeline.crossdoc")

    def cross(records, facts, documents):
        got.extend(records)
        assert facts == []                 # only per-place targets are handed over
        assert [d["doc"] for d in documents] == ["a/c.txt", "b.txt", "d.txt"]
        return [Check(doc="b.txt", kind="cross_doc", verdict="inconsistent",
                      reported=Decimal(3), computed=Decimal(4), evidence="x", start=0, end=1)]
    fake.cross_doc_checks = cross
    monkeypatch.setitem(sys.modules, "pipeline.crossdoc", fake)
    s = runmod.run([src], opts(out))
    assert len(got) == 3 and got[0]["doc"] == "a/c.txt"
    assert rows(out, "checks")[-1]["kind"] == "cross_doc"
    assert s.checks == 4 and s.inconsistent == 4


def test_two_runs_cannot_share_an_out(stub, tmp_path):
    import fcntl
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)   # as another run would
        with pytest.raises(runmod.UsageError, match="another minsheng run"):
            runmod.run([src], opts(out))
    assert runmod.run([src], opts(out)).ok == 3
