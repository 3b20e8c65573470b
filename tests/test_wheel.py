"""Installed from a wheel (issue 12): a wheel built from this tree, installed with the
locked dependencies into a fresh venv, runs from another folder on one file of each
format, and scores the seeds as the clone does."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scoring import load_gold, read_run, score

ROOT = Path(__file__).resolve().parents[1]
SEEDS, GOLD = ROOT.parent / "shared" / "seeds", ROOT.parent / "shared" / "gold"
FILES = ["01_luoyang_2022_banian.txt", "02_changde_2021_q3_tongbao.html",
         "03_ganzhou_2023_tongzhi.pdf", "05_yichang_2019_renda.docx"]

pytestmark = pytest.mark.slow


def _sh(*cmd: str | Path, cwd: Path, timeout: float = 900) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MINSHENG_RULES")}
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                       text=True, timeout=timeout)
    assert p.returncode == 0, f"{cmd}: {p.stdout[-1500:]}{p.stderr[-3000:]}"
    return p.stdout + p.stderr


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("wheel")
    build = _sh(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", tmp / "dist", ROOT,
                cwd=tmp)
    assert "Warning" not in build, build       # no packaging warnings (pipeline.templates)
    wheel = next((tmp / "dist").glob("minsheng-*.whl"))
    _sh(sys.executable, "-m", "venv", tmp / "venv", cwd=tmp)
    pip = tmp / "venv" / "bin" / "pip"
    _sh(pip, "install", "--quiet", "--require-hashes", "-r", ROOT / "requirements.lock", cwd=tmp)
    _sh(pip, "install", "--quiet", "--no-deps", wheel, cwd=tmp)
    return tmp / "venv"


def test_wheel_runs_each_format_from_another_folder(venv, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    files = [ROOT / "corpus" / f for f in FILES]
    _sh(venv / "bin" / "minsheng", "run", *files, "-o", "out", "-j", "2", cwd=work)
    docs = [json.loads(ln) for ln in (work / "out" / "documents.jsonl").read_text().splitlines()]
    assert sorted(d["format"] for d in docs) == ["docx", "html", "pdf", "txt"]
    assert all(d["status"] == "ok" for d in docs), docs
    facts = [json.loads(ln) for ln in (work / "out" / "facts.jsonl").read_text().splitlines()]
    for f in FILES:      # figures from every file, the rules read from the wheel
        assert sum(1 for x in facts if x["doc"].endswith(f)) >= 5, f
    assert (work / "out" / "report.html").stat().st_size > 10_000
    said = _sh(venv / "bin" / "minsheng", "explain", "截至9月底,已完工49个,完成率82%", cwd=work)
    assert "82%" in said and "percent" in said
    loc = _sh(venv / "bin" / "python", "-c", "import pipeline.rules as r; print(r.rules_dir())",
              cwd=work)
    assert str(venv) in loc                 # the packaged rules, not this clone's


@pytest.mark.skipif(not SEEDS.is_dir() or not GOLD.is_dir(),
                    reason="../shared/seeds and ../shared/gold are not beside the repo")
def test_wheel_scores_the_seeds_as_the_clone(venv, tmp_path):
    _sh(venv / "bin" / "minsheng", "run", SEEDS, "-o", "wheel", "--no-report", cwd=tmp_path)
    _sh(sys.executable, "-m", "pipeline.cli", "run", SEEDS, "-o", tmp_path / "clone",
        "--no-report", cwd=ROOT)
    gold = load_gold(GOLD)
    got = {k: score(gold, *read_run(tmp_path / k)) for k in ("wheel", "clone")}
    assert got["wheel"]["overall_f1"] == got["clone"]["overall_f1"] >= 0.9
    assert got["wheel"]["f1"] == got["clone"]["f1"]
