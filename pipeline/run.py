"""The batch run: files and folders -> parallel, cached, resumable run -> OUT.

- Workers (a pebble process pool, forked once, living for the whole run) load the rules
  and the heavy readers once, then call the pure `pipeline.process.process` per file.
- Each file is isolated: an exception, a hang (--timeout: the worker is killed and
  replaced), runaway memory (RLIMIT_AS in workers) or a file over --max-mb becomes a
  failed row with a one-line reason, and the run goes on.
- Each result is serialized by the worker into OUT/.cache/ (keyed by file bytes, doc id,
  rules hash and code version), so memory stays flat, an interrupted run resumes, and
  an unchanged file is never redone.
- OUT changes as a whole: the tables are assembled in doc-id order in a stage folder
  inside OUT, the post-run steps and run.json are written there too, and the stage is
  swapped in as one generation (write.commit_generation). Ctrl-C or kill at any moment
  leaves either the previous generation or this one, and the message says which.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import importlib
import json
import logging
import os
import signal
import stat
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from pipeline import write

# Post-run steps, each `f(folder: Path) -> None`, run on the stage folder that holds the
# new generation's tables and texts/ (not on OUT itself): what a step writes there is
# swapped in with them. A missing module is skipped with a warning; a failing step is
# reported in one line.
# Steps on the finished tables; independent of each other, they run side by side on a
# machine of more than one core, the longest first (the workbook: a Python dict a row)
POST_RUN = ["pipeline.export:write_workbook", "pipeline.report:write_report",
            "pipeline.export:write_parquet"]

CACHE_FORMAT = "1"           # bump when the cache entry layout changes
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_MB = 200.0
DEFAULT_MAX_MEMORY_MB = 4096
# Imported once in the parent before the workers fork, so each worker starts warm
# (a fresh process importing a PDF library took seconds) and shares the pages. Only the
# readers a run's files need: a folder of .txt does not pay for PDF and HTML libraries.
WARM_TEXT_MODULES = ("pipeline.process", "pipeline.ingest", "pipeline.readers.text",
                     "opencc", "cn2an", "cpca", "charset_normalizer")
WARM_READERS = {
    "html": ("pipeline.readers.html", "lxml.html", "trafilatura"),
    "pdf": ("pipeline.readers.pdf", "pypdfium2", "pdfplumber.table"),
    "docx": ("pipeline.readers.docx", "docx"),
    "xlsx": ("pipeline.readers.xlsx", "openpyxl"),
    "image": ("pipeline.readers.image", "rapidocr_onnxruntime"),   # models load per worker
}
_SUFFIX_READER = {".html": "html", ".htm": "html", ".shtml": "html", ".xhtml": "html",
                  ".pdf": "pdf", ".docx": "docx", ".xlsx": "xlsx", ".xlsm": "xlsx",
                  ".xls": "xlsx", ".et": "xlsx", ".png": "image", ".jpg": "image",
                  ".jpeg": "image", ".tif": "image", ".tiff": "image"}

# Processed once in the parent before the workers fork: libraries that build their state
# on first use (jieba's dictionary, gazetteers, converters) then start warm in every
# worker, instead of each worker paying a second or two on its first file.
WARM_TEXT = ("运城市人民政府关于2019年民生实事进展情况的通报\n一、城镇新增就业\n"
             "截至9月底，全市城镇新增就业4.2万人，完成年度目标任务5万人的84%。\n"
             "项目名称\t目标\t完成\n农村公路\t200公里\t150公里\n\n")

log = logging.getLogger("minsheng.run")


def warm_up(rules: Any, docs: list[str] | None = None) -> None:
    """Import the readers the docs need (all of them when docs is None) and run one small
    document through process() (see WARM_TEXT)."""
    logging.getLogger("jieba").setLevel(logging.WARNING)   # its 'Building prefix dict' line
    readers = set(WARM_READERS) if docs is None else \
        {_SUFFIX_READER[s] for s in {Path(d).suffix.lower() for d in docs} if s in _SUFFIX_READER}
    modules = WARM_TEXT_MODULES + tuple(m for r in sorted(readers) for m in WARM_READERS[r])
    for m in modules:
        try:
            importlib.import_module(m)
        except Exception as e:   # a reader not written yet: its files fail with a reason
            log.debug("warm import of %s skipped: %s", m, e)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module("pipeline.process").process(
                "warm-up.txt", "warm-up.txt", WARM_TEXT.encode("utf-8"), rules)
    except Exception as e:       # only a speed-up: the real files will report any bug
        log.debug("warm-up document failed: %s", e)


class UsageError(Exception):
    """Bad options or no inputs: exit status 2, with a message saying what to do."""


class OutputError(UsageError):
    """OUT cannot be written (read-only, full, not a folder): exit status 2, one line;
    OUT keeps the generation it held."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or kill during a run; `message` says which generation OUT holds."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def describe_generation(out: Path) -> str | None:
    """The outputs OUT holds, in words ('generation G: 200 documents, finished T'), or
    None when it holds none."""
    g = write.read_generation(out)
    if g is None:               # written before generations were recorded: run.json says
        try:
            g = json.loads((out / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
    name = f"generation {g['generation']}" if g.get("generation") else "the outputs"
    return f"{name}: {g.get('documents', '?')} documents, finished {g.get('finished', '?')}"


@dataclass
class RunOptions:
    out: Path = Path("outputs/run")
    jobs: int | None = None                 # None: all cores this process may use
    timeout: float = DEFAULT_TIMEOUT        # seconds per file
    force: bool = False
    rules_dir: Path | None = None
    max_mb: float = DEFAULT_MAX_MB
    max_memory_mb: int = DEFAULT_MAX_MEMORY_MB   # per worker address space; 0: no limit
    quiet: bool = False
    progress: bool | None = None            # None: a bar only when stdout is a terminal
    post_run: bool = True                   # report.html, minsheng.xlsx, Parquet (POST_RUN)
    ocr: bool = True                        # scanned PDF pages and images by OCR


@dataclass
class RunSummary:
    out: Path
    documents: int = 0
    ok: int = 0
    failed: int = 0
    cached: int = 0
    facts: int = 0
    checks: int = 0
    inconsistent: int = 0
    reposts: int = 0                        # documents marked duplicate_of (pipeline.dedup)
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)   # (doc, error)
    warnings: list[str] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)   # seconds: scan, process, ...
    peak_mb: dict[str, float] = field(default_factory=dict)   # the parent's peak RSS so far

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


# ----------------------------------------------------------------------------- helpers

def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:   # not Linux
        return max(1, os.cpu_count() or 1)


def _load_rules(rules_dir: Path | None) -> Any:
    """The compiled rules (one place, so tests can stand in for them)."""
    from pipeline import rules
    return rules.load(rules_dir)


def _version() -> str:
    try:
        from importlib.metadata import version
        return version("minsheng")
    except Exception as e:  # not installed (running from a checkout): still a usable key
        log.debug("minsheng version unknown: %s", e)
        return "0+unknown"


# Modules that do not shape a file's result: editing them keeps the cache.
_NOT_PER_FILE = {"cli", "run", "report", "export", "compare", "crossdoc", "explain"}


def code_hash() -> str:
    """A digest of the code that makes results, so a changed extractor invalidates the
    cache even when the version number did not move."""
    h = hashlib.sha256(_version().encode())
    root = Path(__file__).resolve().parent.parent
    for pkg in ("pipeline", "extractors"):
        for p in sorted((root / pkg).rglob("*.py")):
            if pkg == "pipeline" and p.parent.name == "pipeline" and p.stem in _NOT_PER_FILE:
                continue
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def cache_key(salt: str, doc: str, sha: str) -> str:
    # doc is part of the key: the name picks the reader, and rows carry the doc id
    return hashlib.sha256(f"{salt}\0{doc}\0{sha}".encode("utf-8", "surrogatepass")).hexdigest()


def cache_path(cache: Path, key: str) -> Path:
    return cache / key[:2] / f"{key}.json"


def _fmt_of(doc: str) -> str | None:
    suffix = Path(doc).suffix.lower().lstrip(".")
    return suffix or None


def _one_line_exc(e: BaseException) -> str:
    msg = str(e).strip().splitlines()
    return f"{type(e).__name__}: {msg[0][:200]}" if msg else type(e).__name__


# ----------------------------------------------------------------------------- worker

_W: dict[str, Any] = {}        # per-worker state: rules, salt, cache folder


def _init_worker(rules_dir: Path | None, rules_id: str, salt: str, cache: str,
                 max_memory_mb: int) -> None:
    """Once per worker: ignore Ctrl-C (the parent stops us), cap memory, load rules."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if max_memory_mb > 0:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = max_memory_mb * 1024 * 1024
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    # libraries' warnings about odd files would flood the terminal; reasons go in the rows
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    rules = _W.get("rules") if _W.get("rules_id") == rules_id else None
    if rules is None:                 # not inherited from the parent (spawn): load here
        rules = _load_rules(rules_dir)
    _W.update(rules=rules, rules_id=rules_id, salt=salt, cache=Path(cache),
              max_memory_mb=max_memory_mb)


def _work(doc: str, path: str) -> dict[str, Any]:
    """Process one file in a worker. Writes the rendered entry to the cache and returns a
    small summary; an entry that must not be cached (out of memory) travels back in-band."""
    t0 = time.perf_counter()
    rules = _W["rules"]
    rules_hash = getattr(rules, "hash", None)
    name = doc.rsplit("/", 1)[-1]
    sha = None
    cacheable = True

    def failed(error: str) -> dict[str, Any]:
        return write.render(write.failed_entry(doc, error, fmt=_fmt_of(doc), sha256=sha,
                                               rules_hash=rules_hash))
    try:
        data = Path(path).read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        opts = {} if _W.get("ocr", True) else {"ocr": False}     # --no-ocr
        result = importlib.import_module("pipeline.process").process(doc, name, data, rules,
                                                                     **opts)
        del data
        rendered = write.render(write.entry_from_result(doc, result, sha256=sha,
                                                        rules_hash=rules_hash))
        # reposts are told apart in the parent, in doc order; the costly part is here
        if _W.get("reposts", True) and rendered["status"] == "ok":
            rendered["fingerprint"] = importlib.import_module(
                "pipeline.dedup").rendered_fingerprint(rendered)
        del result
    except MemoryError:
        cacheable = False      # depends on the limit and the machine, not on the file alone
        rendered = failed(f"ran out of memory (worker limit {_W['max_memory_mb']} MB; raise "
                          "it with --max-memory-mb if the file is genuine)")
    except OSError as e:
        cacheable = False
        rendered = failed(f"cannot read the file: {e.strerror or e}")
    except RecursionError:
        rendered = failed("structure nested too deeply to process")
    except Exception as e:   # a bug on one file must not stop the run: one line, go on
        rendered = failed(f"internal error while processing ({_one_line_exc(e)}); please "
                          "report this file")
    out: dict[str, Any] = {"doc": doc, "seconds": time.perf_counter() - t0,
                           "status": rendered["status"], "pages": rendered["pages"],
                           "sha256": sha}
    if cacheable and sha is not None:
        key = cache_key(_W["salt"], doc, sha)
        try:
            write.atomic_write_text(cache_path(_W["cache"], key),
                                    write.dumps(rendered), durable=False)
            out["key"] = key
            return out
        except (OSError, MemoryError) as e:   # the cache is an optimization: hand it back
            out["cache_error"] = _one_line_exc(e)
    out["entry"] = rendered
    return out


# ----------------------------------------------------------------------------- run

def _progress(opts: RunOptions, console: Any) -> Any:
    show = opts.progress if opts.progress is not None else (
        console.is_terminal and not opts.quiet)
    if not show:
        return None
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn,
                               TextColumn, TimeElapsedColumn, TimeRemainingColumn)
    return Progress(TextColumn("[bold]{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TaskProgressColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
                    TextColumn("ETA"), TimeRemainingColumn(), console=console, transient=False)


_LOCKS: dict[str, Any] = {}


def _lock(out: Path) -> Any:
    """An exclusive lock on OUT/.lock (released by closing it, or when the process ends)."""
    import fcntl
    key = os.path.realpath(out)
    if key in _LOCKS:
        return _LOCKS[key]
    f = open(out / ".lock", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise UsageError(f"another minsheng run is writing into {out}: wait for it, or "
                         "choose another -o") from None
    _LOCKS[key] = f
    return f


def settle(out: Path) -> str | None:
    """For a reader of OUT (compare): finish a commit that a crash cut short, so it reads
    one generation. Returns what was done, or None. UsageError while a run writes OUT."""
    out = Path(out)
    if not (out / write.JOURNAL).exists():
        return None
    lock = _lock(out)
    try:
        return write.recover(out)
    finally:
        _LOCKS.pop(os.path.realpath(out), None)
        lock.close()


def _peak_rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # KiB on Linux


def _clean_stale_tmp(out: Path) -> None:
    """Temp folders of a run that was killed outright (SIGKILL, power loss)."""
    import shutil
    for p in out.glob(".tmp-*"):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def run(inputs: list[Path], opts: RunOptions | None = None, console: Any = None) -> RunSummary:
    """Run over files and folders into opts.out. Raises UsageError for bad options or
    no inputs, KeyboardInterrupt (after cleaning up) when interrupted."""
    from rich.console import Console
    from pipeline.ingest import find_inputs

    opts = opts or RunOptions()
    console = console or Console()
    t_start = time.perf_counter()
    jobs = opts.jobs if opts.jobs is not None else default_jobs()
    if jobs < 1:
        raise UsageError(f"-j must be 1 or more (got {jobs})")
    if opts.timeout <= 0:
        raise UsageError(f"--timeout must be more than 0 seconds (got {opts.timeout:g})")
    if opts.max_mb <= 0:
        raise UsageError(f"--max-mb must be more than 0 (got {opts.max_mb:g})")
    if not inputs:
        raise UsageError("give at least one input file or folder")
    out = Path(opts.out)
    problems: dict[str, str] = {}     # entries listed but not readable: a failed row each
    try:
        found = find_inputs([Path(p) for p in inputs], skip=[out], problems=problems)
    except FileNotFoundError as e:
        raise UsageError(f"{e}: check the path") from None
    if not found:
        raise UsageError("no input documents found under " + ", ".join(map(str, inputs)) +
                         " (minsheng reads .txt .html .pdf .docx .xlsx .xls, and images by OCR)")
    try:
        rules = _load_rules(opts.rules_dir)
    except Exception as e:   # a broken rules folder is a set-up problem: say so, exit 2
        raise UsageError(f"cannot load the rules: {_one_line_exc(e)} "
                         "(check --rules or MINSHENG_RULES, and the YAML files there)") from None
    rules_hash = str(getattr(rules, "hash", ""))
    salt = hashlib.sha256(f"{CACHE_FORMAT}\0{code_hash()}\0{rules_hash}".encode()).hexdigest()
    if not opts.ocr:            # a scan refused under --no-ocr is not the scan read by OCR
        salt = hashlib.sha256(f"{salt}\0no-ocr".encode()).hexdigest()

    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = _lock(out)         # two runs must not write into one OUT at once
    except OSError as e:
        raise _output_error(out, e) from None
    mine: dict[str, str] = {}         # this run's generation id, once it has one
    try:
        with _sigterm_as_interrupt():
            return _run_locked(found, out, opts, console, jobs, rules, rules_hash, salt,
                               t_start, mine, problems)
    except KeyboardInterrupt:
        held = describe_generation(out)
        g = write.read_generation(out)
        if g is not None and mine and g.get("generation") == mine.get("generation"):
            msg = f"interrupted after this run's outputs were in place: {out} holds {held}"
        elif held:
            msg = (f"interrupted: {out} holds the previous outputs as they were ({held}); "
                   "files finished so far are cached, run the same command again to resume")
        else:
            msg = (f"interrupted: {out} holds no outputs yet; files finished so far are "
                   "cached, run the same command again to resume")
        raise Interrupted(msg) from None
    except OSError as e:      # every input error is a row: what escapes is about OUT
        raise _output_error(out, e) from None
    finally:
        _LOCKS.pop(os.path.realpath(out), None)
        lock.close()


def _output_error(out: Path, e: OSError) -> OutputError:
    where = f" ({e.filename})" if e.filename else ""
    held = describe_generation(out) if out.is_dir() else None
    kept = f"; {out} still holds {held}" if held else ""
    return OutputError(f"cannot write into the output folder {out}: "
                       f"{e.strerror or _one_line_exc(e)}{where}{kept}; choose another -o or "
                       "make it writable")


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """kill (SIGTERM) and hang-up end a run as Ctrl-C does: workers stopped, the stage
    dropped, OUT left whole, the message printed."""
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt
    with write.signals_handled((signal.SIGTERM, signal.SIGHUP), interrupt):
        yield


def _run_locked(found: list[tuple[str, Path]], out: Path, opts: RunOptions, console: Any,
                jobs: int, rules: Any, rules_hash: str, salt: str,
                t_start: float, mine: dict[str, str],
                problems: dict[str, str] | None = None) -> RunSummary:
    summary = RunSummary(out=out)
    done = write.recover(out)          # a commit that a crash cut short: finish it first
    if done:
        summary.warnings.append(f"{out}: {done}")
    _clean_stale_tmp(out)
    cache = out / ".cache"
    cache.mkdir(exist_ok=True)

    entries: dict[str, dict[str, Any]] = {}   # rendered entries made in the parent or in-band
    keys: dict[str, str] = {}                 # doc -> cache key
    timing: dict[str, dict[str, Any]] = {}    # doc -> run.json detail
    todo: list[tuple[str, Path]] = []
    max_bytes = opts.max_mb * 1024 * 1024
    # hashing in the parent only serves the cache lookup: skip it when nothing can hit
    lookup = not opts.force and any(cache.iterdir())
    for doc, reason in (problems or {}).items():
        entries[doc] = _failed(doc, reason, fmt=None, sha256=None, rules_hash=rules_hash)
    for doc, path in found:
        if doc in entries:
            continue
        try:
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                # a FIFO would block the worker reading it; a device is no document
                entries[doc] = _failed(doc, f"not a regular file ({_file_kind(st.st_mode)}): "
                                            "not read", fmt=_fmt_of(doc), sha256=None,
                                       rules_hash=rules_hash)
                continue
            size = st.st_size
            if size > max_bytes:
                entries[doc] = _failed(
                    doc, f"file is {size / 2**20:.1f} MB, over the limit of {opts.max_mb:g} MB; "
                         "raise --max-mb to read it", fmt=_fmt_of(doc), sha256=None,
                    rules_hash=rules_hash)
                continue
            if not lookup:
                todo.append((doc, path))
                continue
            sha = file_sha256(path)
        except OSError as e:
            entries[doc] = _failed(doc, _unreadable(path, e), fmt=_fmt_of(doc), sha256=None,
                                   rules_hash=rules_hash)
            continue
        key = cache_key(salt, doc, sha)
        if not opts.force and cache_path(cache, key).is_file():
            keys[doc] = key
            timing[doc] = {"cached": True}
            continue
        todo.append((doc, path))
    summary.cached = len(keys)

    progress = _progress(opts, console)
    task = None
    if progress is not None:
        progress.start()
        task = progress.add_task("reading", total=len(found), completed=len(found) - len(todo),
                                 rate="")
    writer: write.OutputWriter | None = None
    phases = summary.phases
    phases["scan"] = time.perf_counter() - t_start
    written, t_write = 0, 0.0
    # in doc-id order, so the first of a family never depends on -j. A lone document
    # repeats nothing: such a run (an editor's check of one report) skips importing
    # datasketch, which brings scipy with it (0.4-0.7 s)
    reposts: Any = None
    if len(found) > 1:
        from pipeline.dedup import Reposts
        reposts = Reposts()
    _W["reposts"] = reposts is not None     # forked workers inherit it

    def drain() -> None:
        """Write, in doc-id order, every document whose result is in. The parent does this
        while the workers read the next files, so little is left to write after the pool."""
        nonlocal written, t_write
        t = time.perf_counter()
        while written < len(found):          # found is sorted by doc id (find_inputs sorts)
            doc = found[written][0]
            entry = entries.pop(doc, None)
            if entry is None:
                if doc not in keys:
                    break                    # not done yet
                entry = _load_entry(cache, keys[doc], doc, rules_hash)
            if reposts is not None:
                entry = reposts.mark(entry)
            _count(summary, entry)
            writer.add(entry)
            written += 1
        t_write += time.perf_counter() - t

    try:
        writer = write.OutputWriter(out)
        if todo:   # the process phase: the warm-up (also timed alone), then the pool
            phases["warm_up"] = _run_pool(todo, jobs, opts, rules, rules_hash, salt, cache,
                                          entries, keys, timing, progress, task,
                                          on_result=drain)
        phases["process"] = time.perf_counter() - t_start - phases["scan"]
        if progress is not None:
            progress.update(task, description="writing")
        drain()
        if written != len(found):
            raise RuntimeError(f"no result for {found[written][0]}: please report this bug")
        phases["write"] = t_write
        summary.peak_mb["parent_before_cross_doc"] = _peak_rss_mb()
        t_cross = time.perf_counter()
        _cross_doc(writer, summary)
        phases["cross_doc"] = time.perf_counter() - t_cross
        summary.peak_mb["parent_after_cross_doc"] = _peak_rss_mb()
        writer.finish()
        if progress is not None:
            progress.stop()
            progress = None
        stage = writer.tmp          # the new generation, built beside the current one
        if opts.post_run:
            t_post = time.perf_counter()
            _post_run(stage, summary)
            phases["post_run"] = time.perf_counter() - t_post
            summary.peak_mb["parent_after_post_run"] = _peak_rss_mb()
        summary.seconds = time.perf_counter() - t_start
        info = {"generation": time.strftime("%Y%m%dT%H%M%S") + "-" + os.urandom(3).hex(),
                "documents": summary.documents,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        _write_run_json(stage, summary, jobs, rules_hash, found, timing, info)
        # from here the stage is the commit's: a failure half-way must leave it (and
        # OUT/.commit) for recover() to finish, not drop it with abort()
        writer = None
        mine["generation"] = info["generation"]
        write.commit_generation(out, stage, info)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        if progress is not None:
            progress.stop()

    _prune_cache(cache, set(keys.values()))
    return summary


def _run_pool(todo: list[tuple[str, Path]], jobs: int, opts: RunOptions, rules: Any,
              rules_hash: str, salt: str, cache: Path, entries: dict[str, dict[str, Any]],
              keys: dict[str, str], timing: dict[str, dict[str, Any]],
              progress: Any, task: Any, on_result: Callable[[], None] = lambda: None) -> float:
    """Run the todo files in a process pool; returns the seconds the warm-up took."""
    import multiprocessing

    from pebble import ProcessExpired, ProcessPool

    rules_id = f"{id(rules)}:{rules_hash}"
    t_warm = time.perf_counter()
    warm_up(rules, [doc for doc, _ in todo])
    warm = time.perf_counter() - t_warm
    # Forked workers inherit the loaded rules and warm modules (spawn would reload them).
    _W.update(rules=rules, rules_id=rules_id, ocr=opts.ocr)
    # OCR models load lazily in each worker (onnxruntime does not survive a fork); its
    # threads share the cores with the other workers
    from pipeline.readers import ocr
    ocr.THREADS = max(1, default_jobs() // min(jobs, len(todo)))
    pool = ProcessPool(max_workers=min(jobs, len(todo)), max_tasks=0,
                       initializer=_init_worker,
                       initargs=(opts.rules_dir, rules_id, salt, str(cache), opts.max_memory_mb),
                       context=multiprocessing.get_context("fork"))
    t0 = time.perf_counter()
    done = 0
    try:
        futures = {pool.schedule(_work, args=(doc, str(path)), timeout=opts.timeout): doc
                   for doc, path in todo}
        for fut in cf.as_completed(futures):
            doc = futures[fut]
            _record_result(doc, fut, opts, rules_hash, entries, keys, timing,
                           ProcessExpired)
            on_result()
            done += 1
            if progress is not None:
                rate = done / max(time.perf_counter() - t0, 1e-9)
                progress.update(task, advance=1, rate=f"{rate:.1f} docs/s")
        pool.close()
        pool.join()
        return warm
    except BaseException:
        pool.stop()        # Ctrl-C or a bug in the parent: kill the workers, then re-raise
        pool.join()
        raise


def _record_result(doc: str, fut: Any, opts: RunOptions, rules_hash: str,
                   entries: dict[str, dict[str, Any]], keys: dict[str, str],
                   timing: dict[str, dict[str, Any]], process_expired: type) -> None:
    """One finished future -> a cache key, or an in-memory failed entry."""
    try:
        res = fut.result()
    except cf.TimeoutError:
        entries[doc] = _failed(
            doc, f"timed out after {opts.timeout:g} s (raise --timeout if the file is genuine)",
            fmt=_fmt_of(doc), sha256=None, rules_hash=rules_hash)
        timing[doc] = {"seconds": opts.timeout, "timed_out": True}
        return
    except process_expired as e:
        code = getattr(e, "exitcode", None)
        how = f"killed by signal {-code}" if isinstance(code, int) and code < 0 else \
            f"exit code {code}"
        entries[doc] = _failed(
            doc, f"the worker reading this file died ({how}); it may need more memory than "
                 f"--max-memory-mb {opts.max_memory_mb} allows, or crash a library",
            fmt=_fmt_of(doc), sha256=None, rules_hash=rules_hash)
        timing[doc] = {"crashed": how}
        return
    except Exception as e:   # e.g. a result that could not be sent back: one line, go on
        entries[doc] = _failed(doc, f"internal error: {_one_line_exc(e)}",
                               fmt=_fmt_of(doc), sha256=None, rules_hash=rules_hash)
        timing[doc] = {"error": _one_line_exc(e)}
        return
    timing[doc] = {"seconds": round(res["seconds"], 4), "pages": res.get("pages")}
    if "key" in res:
        keys[doc] = res["key"]
    else:
        entries[doc] = res["entry"]
        if "cache_error" in res:
            timing[doc]["cache_error"] = res["cache_error"]


def _file_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a file"


def _unreadable(path: Path, e: OSError) -> str:
    """Why an input entry cannot be read, in words a person can act on."""
    import errno
    if e.errno == errno.ELOOP:
        return "symbolic link loop (the link leads back to itself): not read"
    if e.errno == errno.ENOENT and path.is_symlink():
        try:
            target = os.fsdecode(os.readlink(path))
        except OSError:
            target = "?"
        return f"broken symbolic link (its target {target} does not exist): not read"
    return f"cannot read the file: {e.strerror or e}"


def _failed(doc: str, error: str, *, fmt: str | None, sha256: str | None,
            rules_hash: str | None) -> dict[str, Any]:
    return write.render(write.failed_entry(doc, error, fmt=fmt, sha256=sha256,
                                           rules_hash=rules_hash))


def _load_entry(cache: Path, key: str, doc: str, rules_hash: str) -> dict[str, Any]:
    try:
        return orjson.loads(cache_path(cache, key).read_bytes())
    except (OSError, ValueError) as e:
        return _failed(doc, f"cached result unreadable ({_one_line_exc(e)}); "
                                       "run again with --force", fmt=_fmt_of(doc),
                                  sha256=None, rules_hash=rules_hash)


def _count(summary: RunSummary, entry: dict[str, Any]) -> None:
    summary.documents += 1
    if entry["status"] == "ok":
        summary.ok += 1
    else:
        summary.failed += 1
        summary.failures.append((entry["doc"], str(entry.get("error") or "failed")))
    c = entry["counts"]
    summary.facts += c["facts"]
    if entry.get("duplicate_of"):
        summary.reposts += 1
        return           # a repost's checks are its original's: counted once
    summary.checks += c["checks"]
    summary.inconsistent += c["inconsistent"]


def _cross_doc(writer: write.OutputWriter, summary: RunSummary) -> None:
    """Checks across documents (pipeline.crossdoc), appended to checks.jsonl."""
    try:
        mod = importlib.import_module("pipeline.crossdoc")
    except ModuleNotFoundError as e:
        if e.name != "pipeline.crossdoc":
            summary.warnings.append(f"cross-document checks skipped: {_one_line_exc(e)}")
        return
    try:
        if hasattr(mod, "cross_doc_streamed"):
            # one city and year at a time, reading back only those documents' rows:
            # memory follows the largest city-year group, not the corpus
            checks = mod.cross_doc_streamed(writer.documents(), writer.read_doc_lines)
        else:
            import inspect
            params = inspect.signature(mod.cross_doc_checks).parameters
            if len(params) >= 3:
                checks = mod.cross_doc_checks(
                    writer.read_records(),
                    writer.read_rows("facts", lambda f: f.get("kind") == "target"
                                     and f.get("place") is not None),
                    writer.read_rows("documents"))
            else:
                checks = mod.cross_doc_checks(writer.read_records())
        # rendered to a spool file as they come; checks.* untouched if this raises
        spool = writer.spool_checks(c.contract() if hasattr(c, "contract") else dict(c)
                                    for c in checks)
    except Exception as e:   # never lose the per-document outputs to this step
        summary.warnings.append(f"cross-document checks failed: {_one_line_exc(e)}")
        return
    summary.checks += len(spool)
    summary.inconsistent += spool.inconsistent
    writer.add_spooled(spool)


def _write_run_json(out: Path, summary: RunSummary, jobs: int, rules_hash: str,
                    found: list[tuple[str, Path]], timing: dict[str, dict[str, Any]],
                    generation: dict[str, Any]) -> None:
    """Timing and the run's own facts: kept out of the outputs that must be reproducible."""
    info = {"generation": generation["generation"],
            "minsheng": _version(), "rules_hash": rules_hash, "jobs": jobs,
            "seconds": round(summary.seconds, 3),
            "phases": {k: round(v, 3) for k, v in summary.phases.items()},
            "peak_rss_mb": {k: round(v, 1) for k, v in summary.peak_mb.items()},
            "documents": summary.documents,
            "ok": summary.ok, "failed": summary.failed, "cached": summary.cached,
            "facts": summary.facts, "checks": summary.checks,
            "inconsistent": summary.inconsistent, "reposts": summary.reposts,
            "finished": generation["finished"],
            "files": {doc: timing.get(doc, {}) for doc, _ in found}}
    # part of the generation: a failure to write it fails the run (OutputError), as the
    # tables' would, rather than leave a run.json that disagrees with them
    write.atomic_write_text(out / "run.json", json.dumps(info, ensure_ascii=False, indent=1))


def _prune_cache(cache: Path, used: set[str]) -> None:
    """Keep only this run's entries, so the cache does not grow with every change."""
    for p in cache.glob("*/*.json"):
        if p.stem not in used:
            try:
                p.unlink()
            except OSError as e:
                log.debug("cache entry %s not removed: %s", p, e)


def _resolve(spec: str) -> Callable[[Path], None] | None:
    mod_name, _, fn = spec.partition(":")
    try:
        mod = importlib.import_module(mod_name)
    except ModuleNotFoundError as e:
        if e.name == mod_name:
            return None
        raise
    return getattr(mod, fn)


def _post_step(spec: str, out: Path) -> list[str]:
    """Run one post-run step (here or in a forked child); the warnings the run prints for
    it. A failing step costs only its own output, not the JSONL outputs."""
    try:
        f = _resolve(spec)
        if f is None:
            return [f"{spec.split(':')[0]} not available yet: skipped"]
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always")
            f(out)
        # an output left out on purpose (a workbook past Excel's rows) says so
        return [str(w.message) for w in notes if w.category.__name__ == "OutputNote"]
    except Exception as e:
        return [f"{spec} failed: {_one_line_exc(e)}"]


def _post_run(out: Path, summary: RunSummary) -> None:
    for spec in POST_RUN:      # imported here: forked children inherit the modules
        try:
            _resolve(spec)
        except Exception:
            pass               # _post_step says why
    width = min(default_jobs(), len(POST_RUN))
    if width < 2:
        for spec in POST_RUN:
            summary.warnings += _post_step(spec, out)
        return
    import concurrent.futures as cf
    import multiprocessing
    # a step goes to a child by name (a function defined anywhere need not pickle); a
    # Ctrl-C reaches the children too, and one raised in a step comes back as its exception
    with cf.ProcessPoolExecutor(width, mp_context=multiprocessing.get_context("fork")) as ex:
        futures = [ex.submit(_post_step, spec, out) for spec in POST_RUN]
        for fut in futures:       # in POST_RUN's order: the warnings read the same each run
            summary.warnings += fut.result()


def format_summary(s: RunSummary) -> str:
    cached = f", {s.cached:,} unchanged from cache" if s.cached else ""
    cached += f", {s.reposts:,} reposts (duplicate_of)" if s.reposts else ""
    return (f"{s.documents:,} documents: {s.ok:,} ok, {s.failed:,} failed{cached} · "
            f"{s.facts:,} figures · {s.checks:,} checks, {s.inconsistent:,} inconsistent · "
            f"{s.seconds:.1f} s -> {s.out}")


def print_summary(s: RunSummary, console: Any, err_console: Any, max_failures: int = 10) -> None:
    for w in s.warnings:
        err_console.print(f"warning: {w}", markup=False, highlight=False, soft_wrap=True)
    for doc, err in s.failures[:max_failures]:
        err_console.print(f"failed: {doc}: {err}", markup=False, highlight=False, soft_wrap=True)
    if len(s.failures) > max_failures:
        err_console.print(f"... and {len(s.failures) - max_failures} more failed: see "
                          f"{s.out / 'documents.csv'}", markup=False, highlight=False, soft_wrap=True)
    console.print(format_summary(s), markup=False, highlight=False, soft_wrap=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: minsheng run INPUT... (see minsheng run --help)")
