"""PDF text does not depend on the fonts of the machine (issue 12): a PDF whose font is
not embedded (reportlab's STSong-Light) reads the same with pdfium seeing the system
fonts and with pdfium seeing none (tests/nofonts.py), and a ruled table row that wraps
onto the next page stays one row."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.readers import pdf as reader
from tools import render

ROOT = Path(__file__).resolve().parents[1]
CORPUS_PDF = ROOT / "corpus" / "03_ganzhou_2023_tongzhi.pdf"
CJK_FONTS = [p for d in ("/usr/share/fonts", "/usr/local/share/fonts")
             for p in Path(d).rglob("*CJK*")] if Path("/usr/share/fonts").is_dir() else []

# a notice whose table rows wrap over many lines, pushed to the foot of the first page
ROWS = [["序号", "工作任务", "年度进度安排", "资金来源"]] + [
    [str(i), f"新建改造第{i}批社区多功能运动场{10 * i}个并配套建设健身步道和照明设施",
     f"6月底前完成任务量的{5 * i}%，9月底前完成任务量的{8 * i}%，11月底前全面完成并组织验收",
     f"省级财政{100 * i}万元，市级财政{40 * i}万元，县级财政按不低于1:1配套"] for i in range(1, 26)]
TEXT = "\n".join(["某某市2023年民生实事任务分解表的通知"] +
                 [f"第{k}段：各县（市、区）要按照任务分解足额落实配套资金，确保项目按进度推进，"
                  "市政府督查室每月汇总推进情况并通报。" for k in range(1, 12)] +
                 ["\t".join(r) for r in ROWS]) + "\n"


def _read_elsewhere(paths: list[Path], tmp_path: Path, no_fonts: bool) -> dict[str, str]:
    """pdf.read of each file in a fresh interpreter, with or without system fonts."""
    script = tmp_path / "read.py"
    script.write_text("import json, sys\nfrom pathlib import Path\n"
                      "from pipeline.readers import pdf\n"
                      "print(json.dumps({p: pdf.read(Path(p).read_bytes()).text "
                      "for p in sys.argv[1:]}))\n", encoding="utf-8")
    cmd = [sys.executable, *([str(ROOT / "tests" / "nofonts.py")] if no_fonts else []),
           str(script), *map(str, paths)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> Path:
    return render.to_pdf(TEXT, tmp_path_factory.mktemp("fonts") / "wrapped.pdf", justify=True)


def test_same_text_without_system_fonts(rendered, tmp_path):
    files = [CORPUS_PDF, rendered]
    with_fonts = _read_elsewhere(files, tmp_path, no_fonts=False)
    without = _read_elsewhere(files, tmp_path, no_fonts=True)
    for f in files:
        assert with_fonts[str(f)] == without[str(f)], f
        assert with_fonts[str(f)] == reader.read(f.read_bytes()).text
    assert "省级财政 300万元" in with_fonts[str(CORPUS_PDF)]


@pytest.mark.skipif(not CJK_FONTS, reason="no CJK font installed (apt-get install "
                    "fonts-noto-cjk): nothing for pdfium to substitute, nothing to hide")
def test_nofonts_helper_hides_the_fonts(tmp_path):
    """The harness above means something: pdfium's own text of a PDF with a non-embedded
    font changes when the CJK fonts are hidden (that is what the reader must not follow)."""
    script = tmp_path / "raw.py"
    script.write_text("import sys, pypdfium2 as p\nd = p.PdfDocument(sys.argv[1])\n"
                      "print(''.join(d[i].get_textpage().get_text_range() for i in range(len(d))))\n",
                      encoding="utf-8")
    outs = [subprocess.run([sys.executable, *pre, str(script), str(CORPUS_PDF)], timeout=120,
                           capture_output=True, text=True, check=True).stdout
            for pre in ([], [str(ROOT / "tests" / "nofonts.py")])]
    assert outs[0] != outs[1]


def test_wrapped_rows_stay_whole_across_pages(rendered):
    """Every row of the ruled table comes out as one tab row with all its cell text,
    including the row the page break cuts (its column lines run to the foot of the page
    with no rule under them)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(rendered)
    page = doc[0]
    grids = reader._find_tables(reader._paths(page)[0], page.get_size()[1])
    assert len(doc) >= 2 and grids[-1].open_bottom      # the case is there
    lines = reader.read(rendered.read_bytes()).text.splitlines()
    rows = [ln.split("\t") for ln in lines if "\t" in ln]
    assert rows == ROWS
