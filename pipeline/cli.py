"""The command line: `minsheng run`, `minsheng explain`, `minsheng compare`."""
from __future__ import annotations

import os

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(
    add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
    help="Read Chinese 民生实事 reports, pull their figures into records, audit the arithmetic.")

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

RUN_HELP = """Read every document under INPUT (files or folders, recursively) and write documents, facts, checks and records (JSONL and CSV), texts/ and the report into OUT.

Re-running into the same OUT reuses the results of unchanged files (OUT/.cache) and gives byte-identical outputs; --force redoes every file. OUT changes as a whole: Ctrl-C or kill leaves either the previous outputs or this run's, never a mix, and says which; run the same command again to resume.

\b
Exit status:
  0    every file was read
  1    some files failed (each has a row with its reason in documents.jsonl)
  2    usage error: bad option, no input documents found, or OUT cannot be written
  130  interrupted (Ctrl-C)
"""  # noqa: E501  (one line per paragraph: the help formatter wraps it)


@app.callback()
def main() -> None:
    """minsheng: figures and arithmetic audits of 民生实事 reports."""


@app.command(help=RUN_HELP, short_help="Read files and folders into OUT: figures, checks, "
                                        "records, report.")
def run(
    inputs: list[Path] = typer.Argument(..., metavar="INPUT...", help="Files or folders."),
    out: Path = typer.Option(Path("outputs/run"), "-o", "--out", help="Output folder."),
    jobs: Optional[int] = typer.Option(None, "-j", "--jobs", min=1,
                                       help="Worker processes (default: all cores)."),
    timeout: float = typer.Option(120.0, "--timeout", min=0.001,
                                  help="Seconds one file may take before it is failed."),
    force: bool = typer.Option(False, "--force", help="Redo every file, ignoring the cache."),
    rules: Optional[Path] = typer.Option(None, "--rules", envvar="MINSHENG_RULES",
                                         help="Rules folder (default: the installed rules/)."),
    max_mb: float = typer.Option(200.0, "--max-mb", min=0.001,
                                 help="Refuse files larger than this many MB, unread."),
    max_memory_mb: int = typer.Option(4096, "--max-memory-mb", min=0,
                                      help="Memory cap per worker in MB (0: none); a file "
                                           "needing more fails with a reason."),
    quiet: bool = typer.Option(False, "-q", "--quiet", help="No progress bar, no summary."),
    no_report: bool = typer.Option(False, "--no-report",
                                   help="Skip the post-run steps (report.html, minsheng.xlsx, "
                                        "Parquet): JSONL, CSV and texts/ only."),
    no_ocr: bool = typer.Option(False, "--no-ocr",
                                help="Refuse scanned PDFs and images instead of reading them "
                                     "by OCR (a few seconds a page)."),
) -> None:
    from pipeline.run import RunOptions, UsageError, print_summary
    from pipeline.run import run as do_run

    console = Console()
    err = Console(stderr=True)
    if rules is not None:
        # every loader (figures, meta, categories) in this process and its workers reads it
        os.environ["MINSHENG_RULES"] = str(rules)
    opts = RunOptions(out=out, jobs=jobs, timeout=timeout, force=force, rules_dir=rules,
                      max_mb=max_mb, max_memory_mb=max_memory_mb, quiet=quiet,
                      post_run=not no_report, ocr=not no_ocr)
    try:
        summary = do_run(inputs, opts, console=console)
    except UsageError as e:
        err.print(f"error: {e}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    except KeyboardInterrupt as e:
        # run() says which generation OUT holds: the previous one, or this run's when the
        # signal came after the swap
        msg = getattr(e, "message", None) or (
            f"interrupted: {out} holds the previous outputs as they were; files finished so "
            "far are cached, run the same command again to resume")
        err.print(msg, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_INTERRUPTED)
    if not quiet:
        print_summary(summary, console, err)
    else:
        for w in summary.warnings:
            err.print(f"warning: {w}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(summary.exit_code)


# --- explain: filled by the core engineer (pipeline/explain.py) ------------------------
@app.command()
def explain(text: str = typer.Argument(..., help="A sentence or passage, in quotes.")) -> None:
    """Print the figures found in TEXT and the rule behind each."""
    from pipeline.explain import explain as do_explain   # lazy: keeps `run --help` fast
    typer.echo(do_explain(text))


# --- compare: filled by the report engineer (pipeline/compare.py) ----------------------
@app.command()
def compare(
    outs: list[Path] = typer.Argument(..., metavar="OUT...", help="Run output folders."),
    out: Path = typer.Option(Path("outputs/compare"), "-o", "--out", help="Where to write."),
) -> None:
    """Compare the outputs of several runs (years, cities) into one database and report."""
    from pipeline.run import UsageError, settle
    for p in outs:            # a run killed while swapping its outputs in: finish that first
        try:
            settle(p)
        except (UsageError, OSError) as e:
            Console(stderr=True).print(f"error: {e}", markup=False, highlight=False,
                                       soft_wrap=True)
            raise typer.Exit(EXIT_USAGE)
    missing = [str(p) for p in outs if not (p / "documents.jsonl").is_file()]
    if missing:
        Console(stderr=True).print(f"error: not a minsheng run output (no documents.jsonl): "
                                   f"{', '.join(missing)}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE)
    from pipeline.compare import compare as do_compare   # lazy: optional heavy imports
    do_compare(outs, out)


if __name__ == "__main__":  # pragma: no cover
    app()
