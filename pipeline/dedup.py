"""Reposts: the same notice or report published again by another portal or newspaper.

A folder from a crawl holds the same document many times, with other whitespace,
punctuation width and site chrome (breadcrumbs, 来源, 浏览次数). Such a copy keeps its
rows in every table, but `duplicate_of` in documents.jsonl names the first document (in
doc-id order) it repeats, and the cross-document step, the run's summary, the report and
`minsheng compare` leave its checks out, so nothing is counted twice.

Near-identical text is found with MinHash LSH (datasketch) over character 5-grams of
the text with everything but letters and digits removed. Text alone is not enough: the
monthly reports of one city, or a plan and its revision, read alike and differ in their
figures, and those differences are what the audit is for. So a document is a repost only
when, besides the text, its figures (kind, value, unit of every fact) are the same.

Deterministic: fixed seeds, a hash that does not change between processes (CRC32), and
documents are offered in doc-id order (the run writes them in that order whatever the
workers' order), so the first of a family is always the same one.
"""
from __future__ import annotations

import hashlib
import zlib
from typing import Any

import numpy as np
import orjson
import regex
from datasketch import LeanMinHash, MinHash, MinHashLSH

from pipeline import write

NUM_PERM = 120          # permutations: Jaccard estimated to about ±0.04, ~3 ms a document
THRESHOLD = 0.85        # estimated Jaccard of the shingle sets to call two texts the same
# LSH bands × rows, set for recall: a pair at Jaccard 0.9 is a candidate with p = 0.994,
# at 0.6 with p = 0.07 (datasketch's own choice for 0.85 missed one repost in seven).
# Candidates are checked (same figures, estimated Jaccard), so a few extra cost little.
LSH_PARAMS = (12, 10)
SHINGLE = 5
SEED = 1
SCHEME = "affine32"      # datasketch 2.x default, named: a signature is read back with it
_NOT_WORD = regex.compile(r"[^\p{L}\p{N}]+")


def body(text: str) -> str:
    """The text without whitespace, punctuation and symbols (full or half width)."""
    return _NOT_WORD.sub("", text)


def minhash(text: str) -> MinHash:
    b = body(text)
    shingles = {b[i:i + SHINGLE].encode("utf-8") for i in range(max(1, len(b) - SHINGLE + 1))}
    m = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=zlib.crc32, scheme=SCHEME)
    m.update_batch(list(shingles))
    return m


def fingerprint(text: str | None, facts: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What the repost test needs of a document, computed in the worker beside its result
    (the parent then only compares: it must keep up with the workers): the digests of its
    figures and of its text with them, and the MinHash of its text as plain ints."""
    if not text:
        return None
    figs = figures_key(facts)
    exact = hashlib.blake2b(body(text).encode("utf-8") + figs, digest_size=16).hexdigest()
    try:
        sig: list[int] | None = [int(v) for v in minhash(text).hashvalues]
    except Exception:       # never cost a document its result: the parent computes it
        sig = None
    return {"exact": exact, "figures": figs.hex(), "minhash": sig}


def rendered_fingerprint(rendered: dict[str, Any]) -> dict[str, Any] | None:
    """fingerprint() of a rendered entry (write.render): its figures as written."""
    facts = [orjson.loads(x) for x in rendered["jsonl"]["facts"].splitlines() if x]
    return fingerprint(rendered.get("text"), facts)


def figures_key(facts: list[dict[str, Any]]) -> bytes:
    """A digest of the document's figures, order aside."""
    items = sorted(orjson.dumps([f.get("kind"), f.get("value"), f.get("unit")]) for f in facts)
    return hashlib.blake2b(b"\n".join(items), digest_size=16).digest()


class Reposts:
    """Marks reposts among rendered entries offered in doc-id order (see module doc).
    Memory: a signature and two digests per original document."""

    def __init__(self) -> None:
        self._lsh = MinHashLSH(num_perm=NUM_PERM, params=LSH_PARAMS)
        self._sig: dict[str, np.ndarray] = {}
        self._figures: dict[str, str] = {}
        self._exact: dict[str, str] = {}          # digest of body + figures -> first doc
        self.count = 0

    def first_of(self, doc: str, text: str, fp: dict[str, Any]) -> str | None:
        """The earlier document `doc` repeats, or None (then `doc` is remembered as an
        original that later documents may repeat). `fp`: fingerprint(text, its facts)."""
        if fp["exact"] in self._exact:
            return self._exact[fp["exact"]]
        sig = fp.get("minhash")
        # a lean MinHash: the signature alone, without the permutations that only
        # computing one needs (building those for each document cost the parent more
        # than the query)
        m = (LeanMinHash(seed=SEED, hashvalues=np.array(sig, dtype=np.uint64), scheme=SCHEME)
             if sig and len(sig) == NUM_PERM else minhash(text))
        # the figures first: copies with shifted figures read alike and are many
        same = [d for d in self._lsh.query(m)
                if self._figures[d] == fp["figures"]
                and float(np.mean(self._sig[d] == m.hashvalues)) >= THRESHOLD]
        if same:
            return min(same)          # doc ids arrive in order: the smallest is the first
        self._exact[fp["exact"]] = doc
        self._lsh.insert(doc, m)
        self._sig[doc], self._figures[doc] = m.hashvalues, fp["figures"]
        return None

    def mark(self, rendered: dict[str, Any]) -> dict[str, Any]:
        """A rendered entry (write.render) with `duplicate_of` set in its documents row
        and on the entry itself when it repeats an earlier one; the same entry otherwise."""
        text = rendered.get("text")
        if rendered.get("status") != "ok" or not text:
            return rendered
        # computed by the worker; else an entry cached by a run that did not
        fp = rendered.get("fingerprint") or rendered_fingerprint(rendered)
        first = self.first_of(rendered["doc"], text, fp)
        if first is None:
            return rendered
        self.count += 1
        row = orjson.loads(rendered["jsonl"]["documents"])
        row["duplicate_of"] = first
        jsonl = {**rendered["jsonl"], "documents": write.dumps(row) + "\n"}
        csv = {**rendered["csv"], "documents": write.csv_lines("documents", [row])}
        return {**rendered, "jsonl": jsonl, "csv": csv, "duplicate_of": first}
