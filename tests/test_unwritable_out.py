"""An OUT that cannot be written: one line, exit status 2, nothing lost (issue 11).
Tests run as root, where chmod does not stop a write: a path under a regular file, a
read-only mount (where mounting is allowed) and a disk that fills up mid-run stand in."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from pipeline import run as runmod
from pipeline import write

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_run import GOOD, make_inputs, opts, stub  # noqa: E402,F401  (stub: a fixture)

REPO = Path(__file__).resolve().parent.parent
TEXT = "运城市2019年民生实事进展情况\n一、城镇新增就业\n截至9月底，全市城镇新增就业4.2万人，完成年度目标任务5万人的84%。\n"


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "run", *args, "-j", "1",
                           "--no-report"], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)


def _one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr + r.stdout
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: cannot write into the output folder")
    return lines[0]


def test_out_under_a_regular_file(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(TEXT, encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    line = _one_line_error(_cli(str(src), "-o", str(blocker / "out")))
    assert "Not a directory" in line or "File exists" in line
    assert blocker.read_text() == "not a folder"


@pytest.fixture
def read_only_mount(tmp_path):
    """A tmpfs mounted here, remounted read-only on request; skipped where mounting is not
    allowed (not root, or a container without the capability)."""
    where = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(where)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()[:200]}")

    def make_read_only() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
    try:
        yield where, make_read_only
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_out_keeps_its_outputs(tmp_path, read_only_mount):
    where, make_read_only = read_only_mount
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(TEXT, encoding="utf-8")
    out = where / "out"
    r = _cli(str(src), "-o", str(out))
    assert r.returncode == 0, r.stderr
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    make_read_only()
    (src / "b.txt").write_text(TEXT.replace("4.2", "4.5"), encoding="utf-8")
    line = _one_line_error(_cli(str(src), "-o", str(out)))
    assert "Read-only file system" in line
    assert "still holds generation" in line and "1 documents" in line
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_disk_full_while_writing_keeps_previous_outputs(stub, tmp_path):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    runmod.run([src], opts(out))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".cache" not in p.parts}
    gen = write.read_generation(out)["generation"]
    (src / "e.txt").write_text("7", encoding="utf-8")
    real_add = write.OutputWriter.add

    def add_until_full(self, entry):
        if entry["doc"] == "d.txt":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.tmp / "facts.jsonl"))
        real_add(self, entry)
    stub.setattr(write.OutputWriter, "add", add_until_full)
    with pytest.raises(runmod.OutputError) as e:
        runmod.run([src], opts(out))
    msg = str(e.value)
    assert "\n" not in msg and "No space left on device" in msg and gen in msg
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and ".cache" not in p.parts}
    assert after == before
    assert not list(out.glob(".tmp-*"))
    # the results are cached: with room again, the run completes
    stub.setattr(write.OutputWriter, "add", real_add)
    s = runmod.run([src], opts(out))
    assert s.cached == 4 and s.documents == 4      # e.txt was read before the disk filled
    docs = [json.loads(x)["doc"] for x in (out / "documents.jsonl").read_text().splitlines()]
    assert docs == ["a/c.txt", "b.txt", "d.txt", "e.txt"]
