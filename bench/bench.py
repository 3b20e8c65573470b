"""Throughput and memory of `minsheng run`, beside same-machine baselines.

    .venv/bin/python bench/bench.py            # 2,000 txt, 200 pdf, 200 html (make bench)
    .venv/bin/python bench/bench.py --quick    # a tenth of that, shorter baselines

Generates a corpus in bench/out/corpus/ from corpus/*.txt (or ../shared/seeds) with the
figures shifted, runs `minsheng run --force -q` on each format with -j1 and -j2, and prints
docs/s, pages/s, MB/s and peak memory (RSS of the run's process tree, and of the parent
alone, sampled every 50 ms), then the baselines (pdfplumber's extract_text pages/s,
jionlp.ner.extract_money MB/s, each single-process on the same files, time-capped) and the
ratios against the targets of issue 4. Timings are end-to-end wall clock of the command,
interpreter start included.

    .venv/bin/python bench/bench.py --crawl 2000 --only-crawl   # make bench-crawl

The crawl case (issue 10) is a folder as a crawl gives it: the five seeds of
../shared/seeds, each copied many times with its figures shifted and its 截至 month moved
(monthly reports of the same five city-years), and one in five documents a repost of
an earlier one with other site chrome, spacing and punctuation width. It runs with
-j1 and -j2 with the post-run steps (report.html, minsheng.xlsx, Parquet) and prints
docs/s end to end and per phase, each output's size, and the peak memory of the parent
and of the whole process tree; then the same at a fifth of the size, to show what grows
linearly.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


# ----------------------------------------------------------------------------- corpus

def samples() -> list[tuple[str, str]]:
    """(name, text) of the sample reports to vary."""
    for folder in (REPO / "corpus", REPO.parent / "shared" / "seeds"):
        files = sorted(p for p in folder.glob("*.txt")) if folder.is_dir() else []
        if files:
            return [(p.stem, _decode(p.read_bytes())) for p in files]
    sys.exit("no sample reports: corpus/*.txt and ../shared/seeds/*.txt are both empty")


def _decode(data: bytes) -> str:
    """Samples come in UTF-8, GB18030 or Big5, like the real reports."""
    for enc in ("utf-8-sig", "gb18030", "big5"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


_NUM = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)(?![\d.]*[月日号届])")


def shift_figures(text: str, rnd: random.Random, years: int = 0) -> str:
    """Scale every figure (not dates, ordinals) by a factor near 1, keeping its decimals,
    and move years by `years`, so each generated report is different text of the same
    shape, and copies of one sample are reports of different years (as a real corpus
    of one city is; otherwise the cross-document check would pair every copy)."""
    factor = rnd.uniform(0.7, 1.3)

    def sub(m: re.Match[str]) -> str:
        s = m.group(1)
        if len(s) == 4 and s[:2] in ("19", "20") and s.isdigit():      # a year
            return str(int(s) + years)
        decimals = len(s.split(".")[1]) if "." in s else 0
        v = float(s) * factor
        return f"{v:.{decimals}f}" if decimals else str(max(1, round(v)))
    return _NUM.sub(sub, text)


def _fallback_pdf(text: str, path: Path) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    y = 800
    for para in text.replace("\t", " ").splitlines():
        for i in range(0, max(len(para), 1), 38):
            if y < 60:
                c.showPage()
                y = 800
            c.setFont("STSong-Light", 11)
            c.drawString(60, y, para[i:i + 38])
            y -= 18
    c.showPage()
    c.save()


def _fallback_html(text: str, path: Path) -> None:
    import html
    body = "\n".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines() if line)
    path.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{body}"
                    "</body></html>", encoding="utf-8")


def generate(root: Path, n_txt: int, n_pdf: int, n_html: int, seed: int = 1) -> None:
    manifest = {"txt": n_txt, "pdf": n_pdf, "html": n_html, "seed": seed, "layout": 2,
                "samples": [n for n, _ in samples()]}
    mf = root / "manifest.json"
    if mf.is_file() and json.loads(mf.read_text()) == manifest:
        return                                  # same corpus as last time: reuse it
    shutil.rmtree(root, ignore_errors=True)
    try:
        from tools import render
        to_pdf, to_html = render.to_pdf, render.to_html
    except ImportError:
        print("tools/render.py not found: plain reportlab PDFs and minimal HTML", flush=True)
        to_pdf, to_html = _fallback_pdf, _fallback_html
    rnd = random.Random(seed)
    src = samples()
    for fmt, n in (("txt", n_txt), ("pdf", n_pdf), ("html", n_html)):
        (root / fmt).mkdir(parents=True)
        for i in range(n):
            name, text = src[i % len(src)]
            # copy k of a sample: year moved by k mod 30 - 20 (at most ~1 in 30 share a year)
            text = shift_figures(text, rnd, years=(i // len(src)) % 30 - 20)
            path = root / fmt / f"{i:05d}_{name}.{fmt}"
            if fmt == "txt":
                path.write_text(text, encoding="utf-8")
            elif fmt == "pdf":
                to_pdf(text, path)
            else:
                to_html(text, path)
        print(f"  generated {n} {fmt}", flush=True)
    mf.write_text(json.dumps(manifest))


CHROME_HEAD = ("首页 > 政务公开 > 民生实事\n来源：{site}  发布时间：2019-{m:02d}-{d:02d}  浏览次数：\n"
               "【字体：大 中 小】【打印】\n")
CHROME_TAIL = "\n【关闭窗口】【打印本页】\n主办：{site}  技术支持：信息中心\n"
SITES = ("运城新闻网", "市政府门户网站", "人大网", "日报数字版", "政务新媒体")
_MONTH = re.compile(r"((?:截至|截止)(?:到)?)(\d{1,2})(月)")


def repost(text: str, rnd: random.Random) -> str:
    """A portal's copy: its chrome around the text, other line breaks and spacing,
    half-width punctuation made full width."""
    body = text.replace(",", "，").replace(":", "：").replace("\n\n", "\n").replace("。", "。 ")
    site = rnd.choice(SITES)
    return (CHROME_HEAD.format(site=site, m=rnd.randint(1, 12), d=rnd.randint(1, 28)) + body
            + CHROME_TAIL.format(site=site))


def seed_samples() -> list[tuple[str, str]]:
    for folder in (REPO.parent / "shared" / "seeds", Path("/work/shared/seeds"), REPO / "corpus"):
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        if files:
            return [(p.stem[:3], _decode(p.read_bytes())) for p in files[:5]]
    sys.exit("no seeds: ../shared/seeds/*.txt not found")


def generate_crawl(root: Path, n: int, seed: int = 10) -> None:
    """n documents from the seeds: copies with shifted figures and moved months (the
    same city-years), every fifth a repost of an earlier document."""
    src = seed_samples()
    manifest = {"crawl": n, "seed": seed, "layout": 1, "samples": [k for k, _ in src]}
    mf = root / "manifest.json"
    if mf.is_file() and json.loads(mf.read_text()) == manifest:
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rnd = random.Random(seed)
    made: list[str] = []
    for i in range(n):
        if i % 5 == 4 and made:
            text = repost(made[rnd.randrange(len(made))], rnd)
        else:
            name, text = src[i % len(src)]
            month = 1 + (i // len(src)) % 12
            text = _MONTH.sub(lambda m: f"{m.group(1)}{month}{m.group(3)}",
                              shift_figures(text, rnd))
            made.append(text)
        (root / f"{i:05d}.txt").write_text(text, encoding="utf-8")
    mf.write_text(json.dumps(manifest))


def out_sizes(out: Path) -> dict[str, float]:
    """MB of each output (texts/ and parquet/ as one each)."""
    sizes: dict[str, float] = {}
    for p in sorted(out.iterdir()):
        if p.name.startswith(".") or p.name == "run.json":
            continue
        b = sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() \
            else p.stat().st_size
        sizes[p.name + ("/" if p.is_dir() else "")] = b / 2**20
    return sizes


def crawl_case(a: argparse.Namespace, jobs: list[int]) -> None:
    n = a.crawl
    root = a.out / f"crawl-{n}"
    print(f"crawl case: generating {n} documents from the seeds in {root} ...", flush=True)
    generate_crawl(root, n)
    runs: list[tuple[str, int, Measure, Path]] = []
    for j in jobs:
        out = a.out / f"run-crawl-{n}-j{j}"
        runs.append((f"{n} -j{j}", n, run_minsheng([root], out, j, report=True), out))
    small = max(1, n // 5)
    sroot = a.out / f"crawl-{small}"
    generate_crawl(sroot, small)
    out = a.out / f"run-crawl-{small}-j{jobs[-1]}"
    runs.append((f"{small} -j{jobs[-1]}", small, run_minsheng([sroot], out, jobs[-1], report=True),
                 out))
    phases = ("scan", "process", "write", "cross_doc", "post_run")
    print(f"\n{'crawl':<12}{'docs/s':>8}{'seconds':>9}" + "".join(f"{p:>10}" for p in phases)
          + f"{'parent MB':>11}{'tree MB':>9}   (phases: seconds, and docs/s)")
    for label, k, m, _ in runs:
        print(f"{label:<12}{k / m.seconds:8.1f}{m.seconds:9.1f}"
              + "".join(f"{m.phases.get(p, 0):10.1f}" for p in phases)
              + f"{m.peak_parent_mb:11.0f}{m.peak_tree_mb:9.0f}")
        print(f"{'':<12}{'':>8}{'':>9}" + "".join(
            f"{k / m.phases[p]:10.0f}" if m.phases.get(p) else f"{'':>10}" for p in phases))
    print("\noutput sizes (MB):")
    names = sorted({k for *_, o in runs for k in out_sizes(o)})
    print(f"{'':<22}" + "".join(f"{label:>14}" for label, *_ in runs))
    sizes = [out_sizes(o) for *_, o in runs]
    for nm in names:
        print(f"{nm:<22}" + "".join(f"{s.get(nm, 0):14.2f}" for s in sizes))
    big, little = runs[-2], runs[-1]
    for key, what in (("report.html", "report.html"), ("checks.jsonl", "checks.jsonl")):
        b, s_ = sizes[-2].get(key, 0), sizes[-1].get(key, 0)
        print(f"  {what}: {b:.2f} MB at {big[1]} docs, {s_:.2f} MB at {little[1]} "
              f"({b / s_ if s_ else 0:.1f}x for {big[1] / little[1]:.0f}x the documents)")
    pb, ps = big[2].phases.get("post_run", 0), little[2].phases.get("post_run", 0)
    print(f"  post-run: {pb:.1f} s vs {ps:.1f} s ({pb / ps if ps else 0:.1f}x); "
          f"processing {big[2].phases.get('process', 0):.1f} s")
    r = runs[0][2].seconds / runs[1][2].seconds if len(jobs) > 1 else 0
    if len(jobs) > 1:
        print(f"  -j{jobs[1]} / -j{jobs[0]} end to end: {r:.2f}x (target >= 1.6x) {verdict(r >= 1.6)}")
    worst = max(m.peak_parent_mb for _, _, m, _ in runs)
    print(f"  parent peak memory: {worst:.0f} MB (target < 500) {verdict(worst < 500)}")
    rep_mb = max(s.get("report.html", 0) for s in sizes)
    print(f"  report.html: {rep_mb:.1f} MB (target < 20) {verdict(rep_mb < 20)}")
    docs = [json.loads(x) for x in (runs[0][3] / "documents.jsonl").read_text("utf-8").splitlines()]
    marked = {d["doc"] for d in docs if d.get("duplicate_of")}
    made = {f"{i:05d}.txt" for i in range(4, n, 5)}
    print(f"  reposts marked: {len(marked & made)} of the {len(made)} made; besides, "
          f"{len(marked - made)} shifted copies whose figures all rounded alike (the same "
          "notice to the audit)")


# ----------------------------------------------------------------------------- measure

@dataclass
class Measure:
    seconds: float          # wall clock of the whole command
    phases: dict            # run.json phases: scan, process, write, cross_doc, post_run
    parent_peaks: dict      # run.json peak_rss_mb: the parent's peak before/after cross-doc
    peak_tree_mb: float
    peak_parent_mb: float
    returncode: int
    summary: str


def run_minsheng(inputs: list[Path], out: Path, jobs: int, report: bool = False) -> Measure:
    """One `minsheng run --force`, its wall time and peak RSS sampled every 50 ms.
    Without the post-run steps (report.html, xlsx, Parquet) unless report=True."""
    import psutil
    cmd = [sys.executable, "-m", "pipeline.cli", "run", *map(str, inputs), "-o", str(out),
           "-j", str(jobs), "--force", *([] if report else ["--no-report"])]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    peak = [0, 0]
    stop = threading.Event()

    def sample() -> None:
        p = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                parent = p.memory_info().rss
                tree = parent + sum(c.memory_info().rss for c in p.children(recursive=True))
            except psutil.Error:     # a worker ended between listing and reading: next tick
                continue
            peak[0], peak[1] = max(peak[0], tree), max(peak[1], parent)
            stop.wait(0.05)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    stdout, stderr = proc.communicate()
    seconds = time.perf_counter() - t0
    stop.set()
    th.join()
    if proc.returncode not in (0, 1):
        sys.exit(f"minsheng run failed ({proc.returncode}):\n{stderr[-2000:]}")
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    return Measure(seconds, info.get("phases", {}), info.get("peak_rss_mb", {}), peak[0] / 2**20, peak[1] / 2**20, proc.returncode,
                   stdout.strip().splitlines()[-1] if stdout.strip() else "")


def pdf_pages(files: list[Path]) -> int:
    import pypdfium2 as pdfium
    n = 0
    for f in files:
        doc = pdfium.PdfDocument(str(f))
        n += len(doc)
        doc.close()
    return n


def pdfplumber_pages_per_s(files: list[Path], cap: float) -> tuple[float, int]:
    import pdfplumber
    pages, t0 = 0, time.perf_counter()
    for f in files:
        with pdfplumber.open(f) as pdf:
            for page in pdf.pages:
                page.extract_text()
                pages += 1
        if time.perf_counter() - t0 > cap:
            break
    return pages / (time.perf_counter() - t0), pages


def jionlp_mb_per_s(files: list[Path], cap: float) -> tuple[float, float] | None:
    try:
        import contextlib
        import io
        with contextlib.redirect_stdout(io.StringIO()):   # jionlp prints a banner
            import jionlp
    except ImportError:
        return None
    texts = [f.read_text(encoding="utf-8") for f in files]
    jionlp.ner.extract_money(texts[0])                    # its lazy set-up, not timed
    size, t0 = 0, time.perf_counter()
    for t in texts:
        jionlp.ner.extract_money(t)
        size += len(t.encode("utf-8"))
        if time.perf_counter() - t0 > cap:
            break
    return size / 2**20 / (time.perf_counter() - t0), size / 2**20


def _burn(n: int) -> float:
    t0 = time.perf_counter()
    x = 0
    for i in range(n):
        x += i * i
    return time.perf_counter() - t0


def machine_scaling(jobs: int, n: int = 20_000_000) -> float:
    """How much faster `jobs` CPU-bound processes finish `jobs` equal pieces of work than
    one process does one: the ceiling for any -jN / -j1 ratio on this machine now (shared
    or hyper-threaded CPUs give less than N)."""
    import multiprocessing
    one = _burn(n)
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        t0 = time.perf_counter()
        pool.map(_burn, [n] * jobs)
        many = time.perf_counter() - t0
    return jobs * one / many


def mb(files: list[Path]) -> float:
    return sum(f.stat().st_size for f in files) / 2**20


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--txt", type=int, default=2000)
    ap.add_argument("--pdf", type=int, default=200)
    ap.add_argument("--html", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="200 txt, 20 pdf, 20 html, 15 s caps")
    ap.add_argument("--baseline-cap", type=float, default=60.0,
                    help="seconds each baseline may run (it is a rate: a sample suffices)")
    ap.add_argument("--jobs", default="1,2", help="worker counts to compare, e.g. 1,2")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "out")
    ap.add_argument("--report", action="store_true",
                    help="also time one run with the post-run steps (report.html, xlsx, Parquet)")
    ap.add_argument("--crawl", type=int, default=2000,
                    help="documents in the crawl case (seeds, shifted figures, reposts); 0: none")
    ap.add_argument("--only-crawl", action="store_true", help="run the crawl case only")
    a = ap.parse_args()
    if a.quick:
        a.txt, a.pdf, a.html, a.baseline_cap = 200, 20, 20, 15.0
        a.crawl = min(a.crawl, 200)
    jobs = [int(j) for j in a.jobs.split(",")]
    if a.only_crawl:
        crawl_case(a, jobs)
        return
    root = a.out / "corpus"
    print(f"generating corpus in {root} ...", flush=True)
    generate(root, a.txt, a.pdf, a.html)
    files = {fmt: sorted((root / fmt).glob(f"*.{fmt}")) for fmt in ("txt", "pdf", "html")}
    pages = pdf_pages(files["pdf"])
    size = {fmt: mb(fs) for fmt, fs in files.items()}
    print(f"corpus: {len(files['txt'])} txt ({size['txt']:.1f} MB), {len(files['pdf'])} pdf "
          f"({pages} pages, {size['pdf']:.1f} MB), {len(files['html'])} html "
          f"({size['html']:.1f} MB); {os.cpu_count()} cores\n", flush=True)

    res: dict[tuple[str, int], Measure] = {}
    print("rates are end to end (interpreter start to the last rename), without the post-run"
          " report steps;\n'cross' is the cross-document step inside that time.\n")
    # the fixed cost of any run: interpreter, imports, rules, warm-up, pool (one small file)
    one = a.out / "corpus-one"
    shutil.rmtree(one, ignore_errors=True)
    one.mkdir(parents=True)
    os.link(files["txt"][0], one / files["txt"][0].name)
    start = min(run_minsheng([one], a.out / "run-one", 1).seconds for _ in range(3))
    print(f"start-up: a one-file run takes {start:.2f} s (best of 3); 'proc' is the process "
          "phase (warm-up, then the pool)\n")
    print(f"{'run':<12}{'docs/s':>9}{'pages/s':>9}{'MB/s':>8}{'seconds':>9}{'proc':>7}{'cross':>7}"
          f"{'peak RSS tree':>15}{'parent':>9}", flush=True)

    def row(label: str, n: int, m_b: float, m: Measure, pg: int | None = None) -> None:
        p = f"{pg / m.seconds:9.1f}" if pg else f"{'':>9}"
        print(f"{label:<12}{n / m.seconds:9.1f}{p}{m_b / m.seconds:8.3f}{m.seconds:9.1f}"
              f"{m.phases.get('process', 0):7.1f}{m.phases.get('cross_doc', 0):7.1f}"
              f"{m.peak_tree_mb:12.0f} MB{m.peak_parent_mb:6.0f} MB", flush=True)
    for fmt in ("txt", "pdf", "html", "all"):
        inputs = [root / f for f in ("txt", "pdf", "html")] if fmt == "all" else [root / fmt]
        n = sum(len(v) for v in files.values()) if fmt == "all" else len(files[fmt])
        m_b = sum(size.values()) if fmt == "all" else size[fmt]
        for j in jobs:
            m = run_minsheng(inputs, a.out / f"run-{fmt}-j{j}", j)
            res[(fmt, j)] = m
            row(f"{fmt} -j{j}", n, m_b, m, pages if fmt == "pdf" else None)
    # memory flat in corpus size: the same run on a quarter of the text corpus
    quarter = a.out / "corpus-quarter"
    shutil.rmtree(quarter, ignore_errors=True)
    quarter.mkdir(parents=True)
    nq = max(1, len(files["txt"]) // 4)
    for f in files["txt"][:nq]:
        os.link(f, quarter / f.name)
    mq = run_minsheng([quarter], a.out / "run-quarter-j1", jobs[0])
    row(f"txt/4 -j{jobs[0]}", nq, mb(files["txt"][:nq]), mq)
    # the whole command as a user runs it, with report.html, xlsx and Parquet
    n_all = sum(len(v) for v in files.values())
    mr = None if not a.report else run_minsheng(
        [root / f for f in ("txt", "pdf", "html")], a.out / "run-all-report", jobs[-1],
        report=True)
    if mr is not None:
        print(f"{'all -j' + str(jobs[-1]) + ' +report':<12}{n_all / mr.seconds:9.1f}{'':>9}"
              f"{sum(size.values()) / mr.seconds:8.3f}{mr.seconds:9.1f}"
              f"{mr.phases.get('cross_doc', 0):7.1f}{mr.peak_tree_mb:12.0f} MB"
              f"{mr.peak_parent_mb:6.0f} MB  (post-run steps {mr.phases.get('post_run', 0):.1f} s)"
              "\n", flush=True)

    print(f"baselines (single process, at most {a.baseline_cap:g} s each):", flush=True)
    plumber, plumber_pages = pdfplumber_pages_per_s(files["pdf"], a.baseline_cap)
    print(f"  pdfplumber extract_text: {plumber:.1f} pages/s ({plumber_pages} pages)",
          flush=True)
    jio = jionlp_mb_per_s(files["txt"], a.baseline_cap)
    if jio is None:
        print("  jionlp not installed: money-parser baseline skipped "
              "(.venv/bin/pip install jionlp)")
    else:
        print(f"  jionlp.ner.extract_money: {jio[0]:.3f} MB/s ({jio[1]:.1f} MB)")

    print("\ntargets:")
    j1, jn = jobs[0], jobs[-1]
    pdf_rate = pages / res[("pdf", j1)].seconds
    r = pdf_rate / plumber
    steady = pages / max(res[("pdf", j1)].seconds - start, 1e-9)
    print(f"  PDF pages/s -j{j1} / pdfplumber: {pdf_rate:.1f} / {plumber:.1f} = {r:.1f}x "
          f"(target >= 5x) {verdict(r >= 5)}  [start-up taken out: {steady / plumber:.1f}x]")
    if jio is not None:
        txt_rate = size["txt"] / res[("txt", j1)].seconds
        r = txt_rate / jio[0]
        steady = size["txt"] / max(res[("txt", j1)].seconds - start, 1e-9)
        print(f"  text MB/s -j{j1} / jionlp money: {txt_rate:.3f} / {jio[0]:.3f} = {r:.2f}x "
              f"(target >= 1x) {verdict(r >= 1)}  [start-up taken out: {steady / jio[0]:.2f}x]")
    if jn != j1:
        ceiling = machine_scaling(jn)
        print(f"  (this machine now: {jn} CPU-bound processes do {ceiling:.2f}x the work of one "
              f"in the same time; that is the ceiling for -j{jn} / -j{j1})")
        for fmt in ("txt", "pdf", "html", "all"):
            r = res[(fmt, j1)].seconds / res[(fmt, jn)].seconds
            p1, pn = (res[(fmt, j)].phases.get("process", 0) - res[(fmt, j)].phases.get(
                "warm_up", 0) for j in (j1, jn))
            print(f"  {fmt} -j{jn} / -j{j1}: {r:.2f}x (target >= 1.6x) {verdict(r >= 1.6)}"
                  + (f"  [the pool alone, start-up and warm-up out: {p1 / pn:.2f}x]" if pn > 0 else ""))
    full, q = res[("txt", j1)], mq
    fb = full.parent_peaks.get("parent_before_cross_doc", 0)
    qb = q.parent_peaks.get("parent_before_cross_doc", 0)
    print(f"  peak memory, full vs quarter text corpus -j{j1}: reading and writing (parent "
          f"before the cross-document step) {fb:.0f} vs {qb:.0f} MB (target: flat) "
          f"{verdict(fb <= qb * 1.1 + 20)}")
    flat = full.peak_parent_mb <= q.peak_parent_mb * 1.2 + 20
    print(f"  the whole run, cross-document step included: parent {full.peak_parent_mb:.0f} "
          f"vs {q.peak_parent_mb:.0f} MB, tree {full.peak_tree_mb:.0f} vs {q.peak_tree_mb:.0f} MB"
          f" {verdict(flat)}")
    if a.crawl:
        print()
        crawl_case(a, jobs)


if __name__ == "__main__":
    main()
