"""Every entry under an INPUT is accounted for (issue 11): names that are not UTF-8 keep
distinct ids, links that loop or lead nowhere, special files, folders that cannot be
listed and files that cannot be read each get a failed row with a one-line reason.
Stand-in process() (test_run's)."""
from __future__ import annotations

import json
import os
import pathlib
import sys
from pathlib import Path

from pipeline import ingest
from pipeline import run as runmod

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_run import opts, stub  # noqa: E402,F401  (stub: a fixture)


def documents(out: Path) -> dict[str, dict]:
    rows = [json.loads(x) for x in (out / "documents.jsonl").read_text("utf-8").splitlines()]
    assert [r["doc"] for r in rows] == sorted(r["doc"] for r in rows)
    return {r["doc"]: r for r in rows}


def test_names_differing_only_in_bytes_that_are_not_utf8_are_two_documents(stub, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    for bad, text in ((b"\xff", "11"), (b"\xfe", "22")):
        with open(os.fsencode(src) + b"/report" + bad + b".txt", "wb") as f:
            f.write(text.encode())
    out = tmp_path / "out"
    s = runmod.run([src], opts(out))
    assert s.exit_code == 0
    docs = documents(out)
    assert set(docs) == {"report\\xff.txt", "report\\xfe.txt"}
    assert all(d["status"] == "ok" for d in docs.values())
    facts = [json.loads(x) for x in (out / "facts.jsonl").read_text("utf-8").splitlines()]
    assert {(f["doc"], f["value"]) for f in facts} == {("report\\xff.txt", 11),
                                                       ("report\\xfe.txt", 22)}
    assert (out / "texts" / "report\\xff.txt.txt").read_text() == "11"
    assert (out / "texts" / "report\\xfe.txt.txt").read_text() == "22"


def test_links_that_loop_or_lead_nowhere_and_special_files_get_rows(stub, tmp_path):
    src = tmp_path / "in"
    (src / "loop").mkdir(parents=True)
    (src / "good.txt").write_text("5")
    os.symlink("self.txt", src / "self.txt")                # a file link to itself
    os.symlink("gone.pdf", src / "dangling.pdf")            # to nothing
    os.symlink("..", src / "loop" / "again")                # a folder link back up
    os.mkfifo(src / "pipe.txt")                             # would block a reader forever
    out = tmp_path / "out"
    s = runmod.run([src], opts(out, timeout=30))
    assert s.exit_code == 1
    docs = documents(out)
    assert set(docs) == {"good.txt", "self.txt", "dangling.pdf", "loop/again/", "pipe.txt"}
    assert docs["good.txt"]["status"] == "ok"
    reasons = {d: r["error"] for d, r in docs.items() if d != "good.txt"}
    assert all(docs[d]["status"] == "failed" for d in reasons)
    assert all(e and "\n" not in e for e in reasons.values())
    assert reasons["self.txt"].startswith("symbolic link loop")
    assert reasons["dangling.pdf"].startswith("broken symbolic link (its target gone.pdf")
    assert reasons["loop/again/"].startswith("symbolic link loop: leads back to the folder .")
    assert reasons["pipe.txt"] == "not a regular file (a named pipe): not read"
    assert {d for d, _ in s.failures} == set(reasons)


def test_a_folder_that_cannot_be_listed_gets_a_row(stub, tmp_path, monkeypatch):
    src = tmp_path / "in"
    (src / "locked").mkdir(parents=True)
    (src / "locked" / "hidden.txt").write_text("1")
    (src / "open.txt").write_text("2")
    real_scandir = os.scandir

    def scandir(path="."):
        if not isinstance(path, int) and os.fspath(path).endswith("locked"):   # no r-x, non-root
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", scandir)
    out = tmp_path / "out"
    s = runmod.run([src], opts(out))
    docs = documents(out)
    assert set(docs) == {"locked/", "open.txt"}
    assert docs["locked/"]["status"] == "failed"
    assert docs["locked/"]["error"] == ("cannot list this folder (Permission denied): the "
                                        "documents in it were not read")
    assert s.exit_code == 1


def test_a_file_that_cannot_be_read_gets_a_row(stub, tmp_path, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    (src / "secret.txt").write_text("1")
    (src / "open.txt").write_text("2")
    real = pathlib.Path.read_bytes

    def read_bytes(self):          # forked workers inherit this
        if self.name == "secret.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)
    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    out = tmp_path / "out"
    s = runmod.run([src], opts(out))
    docs = documents(out)
    assert docs["secret.txt"]["status"] == "failed"
    assert docs["secret.txt"]["error"] == "cannot read the file: Permission denied"
    assert docs["open.txt"]["status"] == "ok" and s.exit_code == 1


def test_same_name_under_two_inputs_is_two_documents_same_file_once(tmp_path):
    one, two = tmp_path / "2019", tmp_path / "2020"
    for d, text in ((one, "a"), (two, "b")):
        d.mkdir()
        (d / "a.txt").write_text(text)
    found = ingest.find_inputs([one, two, one / "a.txt"])
    assert [d for d, _ in found] == ["2020/a.txt", "a.txt"]
    assert dict(found)["a.txt"].read_text() == "a"
    assert dict(found)["2020/a.txt"].read_text() == "b"
