"""A folder of hostile inputs, built at test time, run twice through the real CLI.

The run must end (exit 1), give every regular file a row, fail each bad file with a
one-line reason, print no traceback, find figures in the good files, and write
byte-identical outputs the second time.
"""
from __future__ import annotations

import io
import json
import os
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_determinism import reproducible_outputs

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO.parent / "shared" / "seeds"

pytestmark = pytest.mark.slow

CHINESE = ("一、城镇新增就业\n截至9月底，全市城镇新增就业4.2万人，完成年度目标任务5万人的84%。\n"
           "二、农村公路\n计划新建农村公路200公里，已完成150公里，完成率75%。\n")


def _pdf(text: str, *, encrypt: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt, invariant=1)
    c.setFont("STSong-Light", 12)
    y = 800
    for line in text.splitlines():
        c.drawString(60, y, line)
        y -= 20
    c.showPage()
    c.save()
    return buf.getvalue()


def _scanned_pdf() -> bytes:
    """One page holding only a picture (no text layer), as a scanner makes."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas
    rnd = random.Random(3)
    img = Image.new("L", (400, 300), 255)
    img.putdata([rnd.choice((0, 255)) for _ in range(400 * 300)])
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.drawImage(ImageReader(img), 50, 400, width=400, height=300)
    c.showPage()
    c.save()
    return buf.getvalue()


def _zip_bomb_docx(path: Path, gigabytes: float = 1.0) -> None:
    """A .docx whose document.xml inflates from ~1 MB to a gigabyte."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                    b'.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')
            chunk = b" " * (1 << 20)
            for _ in range(int(gigabytes * 1024)):
                f.write(chunk)
            f.write(b"</w:t></w:r></w:p></w:body></w:document>")


def build_hostile(root: Path) -> dict[str, str]:
    """Write the hostile folder; returns {doc id: 'fail' | 'ok' | 'any'} (what to expect)."""
    rnd = random.Random(7)
    root.mkdir(parents=True)
    expect: dict[str, str] = {}

    def put(name: str, data: bytes, what: str) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
        expect[name] = what

    put("empty.txt", b"", "fail")
    put("random.txt", rnd.randbytes(4096), "any")   # may decode as some legacy encoding
    put("random.pdf", rnd.randbytes(4096), "fail")
    put("random.docx", rnd.randbytes(4096), "fail")
    put("text-named.pdf", CHINESE.encode("utf-8"), "fail")
    good_pdf = _pdf(CHINESE)
    put("truncated.pdf", good_pdf[: len(good_pdf) // 2], "any")  # may recover a page
    put("encrypted.pdf", _pdf(CHINESE, encrypt="secret"), "fail")
    put("scanned.pdf", _scanned_pdf(), "any")     # noise: OCR may find a glyph or nothing
    put("deep.html", b"<html><body>" + b"<div>" * 200_000 + CHINESE.encode() +
        b"</div>" * 200_000 + b"</body></html>", "any")
    line = ("各项民生实事稳步推进，群众满意度持续提升，" * 240_000).encode("utf-8")
    put("oneline.txt", line[: 9 * 2**20 - (9 * 2**20) % 3], "any")
    _zip_bomb_docx(root / "bomb.docx")
    expect["bomb.docx"] = "fail"
    put("windows-1252.txt", "Caf\u00e9 report \u2013 \u201cprogress\u201d 12 \u20ac\n"
        .encode("cp1252"), "any")
    put("good-pdf/report.pdf", good_pdf, "ok")
    put("good-gbk.txt", CHINESE.encode("gb18030"), "ok")
    # file names that are not valid UTF-8 and differ only in those bytes: two documents,
    # each id showing its bytes escaped
    for bad in (b"\xff\xfe", b"\xfe\xff"):
        with open(os.path.join(os.fsencode(root), b"bad-" + bad + b"-name.txt"), "wb") as f:
            f.write(CHINESE.encode("utf-8"))
    expect["bad-\\xff\\xfe-name.txt"] = "ok"
    expect["bad-\\xfe\\xff-name.txt"] = "ok"
    # a folder link that loops (loop/again -> loop's parent) and a file link that does
    # (self.txt -> self.txt): a failed row each, with the reason
    (root / "loop").mkdir()
    os.symlink("..", root / "loop" / "again")
    expect["loop/again/"] = "fail"
    os.symlink("self.txt", root / "self.txt")
    expect["self.txt"] = "fail"
    if SEEDS.is_dir():
        (root / "seed").mkdir()
        for seed in sorted(SEEDS.glob("*.txt"))[:1]:
            shutil.copy(seed, root / "seed" / seed.name)
            expect[f"seed/{seed.name}"] = "ok"
    return expect


def _run(src: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(src), "-o", str(out),
                           "-j", "2", "--timeout", "120"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)


def test_hostile_folder_runs_to_the_end_twice_identically(tmp_path):
    src = tmp_path / "hostile"
    expect = build_hostile(src)
    out = tmp_path / "out"

    r = _run(src, out)
    assert r.returncode == 1, r.stderr[-3000:]
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, r.stderr[-3000:]

    docs = {d["doc"]: d for d in map(json.loads,
                                     (out / "documents.jsonl").read_text("utf-8").splitlines())}
    assert set(docs) == set(expect), set(docs) ^ set(expect)
    for doc, what in expect.items():
        d = docs[doc]
        assert d["status"] in ("ok", "failed")
        if d["status"] == "failed":
            assert d["error"] and "\n" not in d["error"] and len(d["error"]) < 400, doc
            assert "Traceback" not in d["error"]
        if what == "fail":
            assert d["status"] == "failed", f"{doc} should fail: {d}"
        if what == "ok":
            assert d["status"] == "ok", f"{doc} should be read: {d['error']}"

    facts = [json.loads(x) for x in (out / "facts.jsonl").read_text("utf-8").splitlines()]
    with_facts = {f["doc"] for f in facts}
    for doc, what in expect.items():
        if what == "ok":
            assert doc in with_facts, f"no figures found in good file {doc}"

    first = reproducible_outputs(out)
    r2 = _run(src, out)
    assert r2.returncode == 1
    assert "Traceback" not in r2.stderr
    assert reproducible_outputs(out) == first
