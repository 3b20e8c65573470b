"""Scans read by OCR (issue 13): a small page drawn from text with Pillow and a CJK font,
as an image-only PDF and as a PNG, must give its real figures, its table as tab rows and
offsets into the OCR text; --no-ocr refuses it; low-confidence figures are flagged."""
from __future__ import annotations

import io
from decimal import Decimal

import pytest

from pipeline import ingest
from pipeline.process import flag_ocr, process, process_text
from pipeline.readers import ocr
from pipeline.rules import load
from pipeline.types import ReadError
from tools import scan

LINES = ["临沂市2019年民生实事进展情况",
         "截至9月底，全市已完工49个，完成率82%。",
         "城镇新增就业4.2万人，完成年度目标的84%。"]
TABLE = [["项目", "目标", "完成"], ["农村公路", "200公里", "150公里"]]

needs_ocr = pytest.mark.skipif(not ocr.available(), reason="rapidocr-onnxruntime not installed")
needs_font = pytest.mark.skipif(scan.cjk_font() is None,
                                reason="no CJK font (Debian's fonts-noto-cjk; .ci/run installs it)")


@pytest.fixture(scope="module")
def page():
    """One small page, slightly tilted and blurred as a scanner leaves it."""
    return scan.text_image(LINES, scan.cjk_font(), table=TABLE, tilt=0.5, blur=0.5)


@pytest.fixture(scope="module")
def scanned(page):
    data = scan.images_to_pdf([page], dpi=150)
    return process("scan.pdf", "scan.pdf", data, load())


@needs_ocr
@needs_font
def test_scanned_pdf_gives_its_figures_table_and_offsets(scanned):
    doc, text = scanned.document, scanned.text
    assert doc["status"] == "ok", doc
    assert doc["ocr"] is True and doc["ocr_pages"] == [1]
    assert 0.8 < doc["ocr_confidence"] <= 1
    assert "截至9月底,全市已完工49个,完成率82%。" in text
    assert "农村公路\t200公里\t150公里" in text       # the ruled table as a tab row
    got = {(f.kind, f.value) for f in scanned.facts}
    assert ("percent", Decimal("82")) in got and ("percent", Decimal("84")) in got
    assert any(f.value == Decimal("42000") for f in scanned.facts), got    # 4.2万人
    for f in scanned.facts:
        assert text[f.start:f.end] == f.text
        assert f.ocr_confidence is not None and 0 < f.ocr_confidence <= 1
        assert f.contract()["ocr_low_confidence"] is (f.ocr_confidence < ocr.LOW_CONFIDENCE)
    assert doc["city"] == "临沂市" and doc["year"] == 2019


@needs_ocr
@needs_font
def test_png_is_read_like_a_scanned_page(page):
    buf = io.BytesIO()
    page.save(buf, "PNG")
    assert ingest.sniff_format("notice.png", buf.getvalue()) == "png"
    raw = ingest.read("notice.png", buf.getvalue())
    assert raw.format == "png" and raw.pages == 1 and raw.ocr["pages"] == [1]
    assert "完成率82%" in raw.text.replace("％", "%")


@needs_font
def test_no_ocr_refuses_scans(page):
    pdf = scan.images_to_pdf([page])
    with pytest.raises(ReadError, match="--no-ocr"):
        ingest.read("scan.pdf", pdf, ocr=False)
    buf = io.BytesIO()
    page.save(buf, "PNG")
    with pytest.raises(ReadError, match="--no-ocr"):
        ingest.read("scan.png", buf.getvalue(), ocr=False)
    res = process("scan.pdf", "scan.pdf", pdf, load(), ocr=False)
    assert res.document["status"] == "failed" and "--no-ocr" in res.document["error"]


def test_sniff_images_by_magic_bytes_and_suffix():
    assert ingest.sniff_format("a.bin", b"\x89PNG\r\n\x1a\n" + b"\0" * 20) == "png"
    assert ingest.sniff_format("a", b"\xff\xd8\xff\xe0" + b"\0" * 20) == "jpg"
    assert ingest.sniff_format("a", b"II*\x00" + b"\0" * 20) == "tif"
    assert ingest.sniff_format("broken.tiff", b"not an image") == "tif"
    with pytest.raises(ReadError, match="cannot be decoded"):
        ingest.read("broken.tiff", b"not an image")


def test_low_confidence_figure_flags_its_fact_and_the_check_on_it():
    """Fragments as OCR gives them: the line holding 49 was read at 0.62."""
    text = "截至9月底，已完工49个，完成率82%。\n农村公路建设完成150公里。\n"
    res = process_text("t.pdf", text, load())
    frags = [("截至9月底，已完工49个，完成率82%。", 0.62), ("农村公路建设完成150公里。", 0.99)]
    flag_ocr(res, frags)
    by_text = {f.text: f for f in res.facts}
    low = [f for f in res.facts if f.ocr_low_confidence]
    assert low and all(f.start < res.text.index("\n") for f in low)
    assert by_text["150公里"].ocr_confidence == 0.99 and not by_text["150公里"].ocr_low_confidence
    assert by_text["150公里"].contract()["ocr_low_confidence"] is False
    ratio = [c for c in res.checks if c.kind == "ratio"]
    assert ratio and ratio[0].contract()["ocr_low_confidence"] is True


def test_place_follows_fragments_in_order_and_skips_lost_ones():
    text = "一、概况\n已完工49个,完成率82%。\n完成率82%。\n"
    spans = ocr.place(text, [("已完工49个，", 0.9), ("页眉", 0.5), ("完成率82%。", 0.8),
                             ("完成率82%。", 0.7)])
    assert [text[s:e] for s, e, _ in spans] == ["已完工49个,", "完成率82%。", "完成率82%。"]
    assert spans[2][0] > spans[1][0] and [c for *_, c in spans] == [0.9, 0.8, 0.7]


@needs_font
def test_cli_no_ocr_fails_the_scan_with_its_reason(page, tmp_path):
    """--no-ocr through the CLI and the worker pool: the scan fails with the reason; the
    text file beside it is read as always."""
    import json

    from typer.testing import CliRunner

    from pipeline.cli import app

    src = tmp_path / "in"
    src.mkdir()
    (src / "scan.pdf").write_bytes(scan.images_to_pdf([page]))
    (src / "note.txt").write_text("截至9月底，已完工49个，完成率82%。\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["run", str(src), "-o", str(tmp_path / "out"), "-j", "1",
                                 "--no-ocr", "--no-report", "-q"])
    assert r.exit_code == 1, r.output
    docs = {d["doc"]: d for d in map(json.loads, (tmp_path / "out/documents.jsonl")
                                     .read_text(encoding="utf-8").splitlines())}
    assert docs["note.txt"]["status"] == "ok" and "ocr" not in docs["note.txt"]
    assert docs["scan.pdf"]["status"] == "failed" and "--no-ocr" in docs["scan.pdf"]["error"]
