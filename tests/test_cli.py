"""The CLI's `run`: exit statuses, help text, summary; with a stand-in process()."""
from __future__ import annotations

from typer.testing import CliRunner

from pipeline.cli import app
from test_run import GOOD, make_inputs, rows, stub  # noqa: F401  (fixture)

runner = CliRunner()


def test_help_documents_exit_status():
    r = runner.invoke(app, ["run", "--help"])
    assert r.exit_code == 0
    for line in ("0    every file was read", "1    some files failed", "2    usage error"):
        assert line in r.output


def test_run_ok_exit_0_and_summary(stub, tmp_path):
    src = make_inputs(tmp_path / "in", GOOD)
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(src), "-o", str(out), "-j", "2"])
    assert r.exit_code == 0, r.output
    assert "3 documents: 3 ok, 0 failed" in r.output
    assert len(rows(out, "documents")) == 3


def test_run_some_failed_exit_1(stub, tmp_path):
    src = make_inputs(tmp_path / "in", {**GOOD, "x.txt": "RAISE"})
    r = runner.invoke(app, ["run", str(src), "-o", str(tmp_path / "out"), "-q"])
    assert r.exit_code == 1
    assert "Traceback" not in r.output


def test_usage_errors_exit_2(stub, tmp_path):
    (tmp_path / "empty").mkdir()
    r = runner.invoke(app, ["run", str(tmp_path / "empty"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 2 and "no input documents" in r.output
    r = runner.invoke(app, ["run", str(tmp_path / "nope"), "-o", str(tmp_path / "out")])
    assert r.exit_code == 2 and "not found" in r.output
    r = runner.invoke(app, ["run", str(tmp_path), "-j", "0"])
    assert r.exit_code == 2
    r = runner.invoke(app, ["run"])
    assert r.exit_code == 2


def test_compare_refuses_non_run_folder(tmp_path):
    r = runner.invoke(app, ["compare", str(tmp_path)])
    # before pipeline.compare exists the lazy import fails; after, the folder check does
    assert r.exit_code != 0
