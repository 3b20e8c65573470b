"""Seconds for one text of 1, 8 and 50 MB: is a document's cost linear in its size?

    .venv/bin/python bench/size.py                 # 1, 8, 50 MB (make bench-size)
    .venv/bin/python bench/size.py --sizes 1 2 4   # other sizes, in MB
    .venv/bin/python bench/size.py --profile 4     # cProfile of process() on a 4 MB text

Each text is corpus/*.txt (or ../shared/seeds) concatenated with the figures shifted
(bench.shift_figures), so it has the shape of many reports in one file: headings, tables,
thousands of figures. Each is run as a user would, `minsheng run FILE -o OUT -j1 --force
--no-report` with the default --timeout, and the table gives the command's wall clock,
its CPU seconds (the command and its worker: on a shared machine the wall clock also
counts others' work), the worker's seconds for the file (run.json: what --timeout limits),
and each size's seconds per MB against the first size's. Linear cost keeps that ratio
near 1. --timeout passes minsheng's option on (to time a size past the default).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench import samples, shift_figures  # noqa: E402


def big_text(mb: float, seed: int = 1) -> bytes:
    """UTF-8 text of about `mb` MB made of the samples, each copy's figures shifted."""
    rnd = random.Random(seed)
    src = samples()
    parts: list[bytes] = []
    size, i = 0, 0
    while size < mb * 1024 * 1024:
        _, text = src[i % len(src)]
        b = (shift_figures(text, rnd) + "\n\n").encode("utf-8")
        parts.append(b)
        size += len(b)
        i += 1
    return b"".join(parts)


def time_one(data: bytes, rules: object) -> tuple[float, int]:
    """process() alone, in this process (for --profile)."""
    from pipeline.process import process
    t = time.perf_counter()
    r = process("big.txt", "big.txt", data, rules)
    return time.perf_counter() - t, len(r.facts)


def run_one(data: bytes, work: Path, timeout: float | None) -> tuple[float, float, float, str, int]:
    """`minsheng run` on one file: (wall seconds, CPU seconds of the command and its
    worker, the worker's seconds for the file, status, figures)."""
    src, out = work / "big.txt", work / "out"
    src.write_bytes(data)
    extra = ["--timeout", str(timeout)] if timeout else []
    cpu0 = _children_cpu()
    t = time.perf_counter()
    subprocess.run([str(REPO / ".venv" / "bin" / "minsheng"), "run", str(src), "-o", str(out),
                    "-j1", "--force", "--no-report", "-q", *extra], check=False)
    wall = time.perf_counter() - t
    cpu = _children_cpu() - cpu0
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    doc = json.loads((out / "documents.jsonl").read_text(encoding="utf-8").splitlines()[0])
    worker = info["files"]["big.txt"].get("seconds", float("nan"))
    return wall, cpu, worker, doc["status"] + (f" ({doc['error']})" if doc.get("error") else ""), \
        int(doc.get("facts") or 0)


def _children_cpu() -> float:
    """User+system seconds of the finished child processes (the command, and its worker,
    which it waited for): on a shared machine the wall clock also counts others' work."""
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=float, nargs="+", default=[1, 8, 50], help="MB")
    ap.add_argument("--profile", type=float, help="profile process() on one size (MB) instead")
    ap.add_argument("--timeout", type=float, help="minsheng's --timeout (default: its default)")
    args = ap.parse_args()
    if args.profile:
        from pipeline import rules as rules_mod
        from pipeline.run import warm_up
        rules = rules_mod.load(None)
        warm_up(rules, [])          # imports and first-use state, as a worker has them
        data = big_text(args.profile)
        pr = cProfile.Profile()
        pr.enable()
        time_one(data, rules)
        pr.disable()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(35)
        return
    base: float | None = None
    print(f"{'MB':>6} {'wall s':>8} {'cpu s':>7} {'worker s':>9} {'s/MB':>6} {'vs first':>9} "
          f"{'figures':>9}  status", flush=True)
    with tempfile.TemporaryDirectory(prefix="minsheng-size-") as tmp:
        for mb in args.sizes:
            data = big_text(mb)
            wall, cpu, worker, status, n = run_one(data, Path(tmp), args.timeout)
            size = len(data) / 2**20
            per_mb = worker / size
            base = base or per_mb
            print(f"{size:6.1f} {wall:8.2f} {cpu:7.2f} {worker:9.2f} {per_mb:6.2f} "
                  f"{per_mb / base:8.2f}x {n:9,}  {status}", flush=True)
            del data


if __name__ == "__main__":
    main()
