"""report.html in a real headless browser (Debian's chromium): it renders, the
filters work, the page raises no JS error. Skipped where chromium is missing;
.ci/apt-packages.txt makes CI install it."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import lxml.html
import pytest

from pipeline.report import write_report
from test_report_data import make_out, q

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None,
                                 reason="needs Debian's chromium: apt-get install chromium fonts-noto-cjk")]


def dump_dom(page: Path, fragment: str, profile: Path) -> tuple[lxml.html.HtmlElement, str]:
    """The DOM after the page's scripts ran, and chromium's log (console messages)."""
    url = page.resolve().as_uri() + (("#" + quote(fragment, safe="=:,")) if fragment else "")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-extensions", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--dump-dom", url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"chromium failed ({p.returncode}): {p.stderr[-2000:]}"
    assert p.stdout.strip(), f"chromium dumped no DOM: {p.stderr[-2000:]}"
    return lxml.html.fromstring(p.stdout), p.stderr


def console_errors(log: str) -> list[str]:
    return [ln for ln in log.splitlines() if ":CONSOLE" in ln and ("Uncaught" in ln or "rror" in ln)]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_report(make_out(tmp_path_factory.mktemp("run")))


def visible(dom: lxml.html.HtmlElement, css: str) -> list[lxml.html.HtmlElement]:
    return [e for e in q(dom, css) if e.get("hidden") is None]


def test_renders_without_errors(report: Path, tmp_path: Path) -> None:
    dom, log = dump_dom(report, "", tmp_path / "profile")
    assert dom.body.get("data-ready") == "1", "the page's script did not run to its end"
    assert dom.get_element_by_id("js-errors").get("data-count") == "0"
    assert console_errors(log) == []
    assert len(visible(dom, "article.problem")) == 5
    assert dom.get_element_by_id("filter-state").get("data-filter") == ""


def test_verdict_filter(report: Path, tmp_path: Path) -> None:
    dom, log = dump_dom(report, "filter=verdict:inconsistent", tmp_path / "profile")
    assert console_errors(log) == [] and dom.get_element_by_id("js-errors").get("data-count") == "0"
    probs = visible(dom, "article.problem")
    assert [p.get("data-verdict") for p in probs] == ["inconsistent"] * 4
    rows = visible(dom, "tr.check")
    assert rows and all(r.get("data-verdict") == "inconsistent" for r in rows)
    state = dom.get_element_by_id("filter-state")
    assert state.get("data-problems") == "4" and state.get("data-filter") == "verdict:inconsistent"
    assert dom.get_element_by_id("f-verdict").get("value", None) is None  # a select's value is state, not markup
    # documents without an inconsistent check are hidden (临沂 has none)
    assert [d.get("data-city") for d in visible(dom, "details.doc")] == ["运城市", "运城市"]


def test_city_and_kind_filters_combine(report: Path, tmp_path: Path) -> None:
    dom, log = dump_dom(report, "filter=city:运城市,kind:ratio", tmp_path / "profile")
    assert console_errors(log) == []
    assert [p.get("data-kind") for p in visible(dom, "article.problem")] == ["ratio", "ratio"]
    rows = visible(dom, "tr.check")
    assert len(rows) == 3 and {r.get("data-city") for r in rows} == {"运城市"}
    dom, _ = dump_dom(report, "filter=city:临沂市", tmp_path / "profile")
    assert visible(dom, "article.problem") == []
    assert [d.get("data-city") for d in visible(dom, "details.doc")] == ["临沂市"]


def test_unknown_filter_value_is_reported_not_crashing(report: Path, tmp_path: Path) -> None:
    dom, log = dump_dom(report, "filter=verdict:nonsense", tmp_path / "profile")
    assert dom.get_element_by_id("js-errors").get("data-count") == "0"
    assert "nonsense" in dom.get_element_by_id("filter-state").get("data-error")


def test_link_to_a_check_opens_its_document(report: Path, tmp_path: Path) -> None:
    dom, log = dump_dom(report, "chk-1", tmp_path / "profile")
    assert console_errors(log) == []
    row = dom.get_element_by_id("chk-1")
    details = next(a for a in row.iterancestors() if a.tag == "details")
    assert details.get("open") is not None


def test_a_capped_report_of_many_documents_opens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder-scale page (left-out notes, the index, reposts, a cross-document finding
    with its values) renders and filters in chromium without a JS error."""
    from pipeline import report as rep
    from test_report_scale import make_big
    for k, v in (("MAX_PROBLEMS", 30), ("MAX_DETAILED", 10), ("MAX_VALUES", 4)):
        monkeypatch.setattr(rep, k, v)
    page = write_report(make_big(tmp_path / "big", 300, reposts=10))
    dom, log = dump_dom(page, "filter=city:市1", tmp_path / "profile")
    assert console_errors(log) == [] and dom.get_element_by_id("js-errors").get("data-count") == "0"
    assert dom.body.get("data-ready") == "1"
    rows = visible(dom, "tr.docrow")
    assert len(rows) == 60 and {r.get("data-city") for r in rows} == {"市1"}
    assert {p.get("data-city") for p in visible(dom, "article.problem")} == {"市1"}
    dom, _ = dump_dom(page, "idx-doc-250", tmp_path / "profile")
    assert dom.get_element_by_id("index").get("open") is not None
