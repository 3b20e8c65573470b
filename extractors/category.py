"""Map a project name to one category of a small taxonomy (rules/categories.yaml).

The project name is segmented with a private jieba tokenizer that knows every
keyword as a word (so 日间照料 or 送戏下乡 are not split into noise), and each
keyword found among the tokens adds its weight to its category. A private
tokenizer keeps our extra words out of jieba's global dictionary, which other
stages use with their own expectations.
"""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
from pipeline.rules import read_yaml

def _rules_file() -> Path:
    """rules/categories.yaml in the one rules folder (pipeline.rules.rules_dir)."""
    from pipeline.rules import rules_dir
    return rules_dir() / "categories.yaml"
OTHER = "其他"
# runs of consecutive default-mode tokens considered as one candidate keyword
_MAX_RUN = 4

jieba.setLogLevel(logging.WARNING)  # jieba prints its dictionary loading to stderr otherwise


@dataclass(frozen=True)
class Category:
    name: str
    keywords: dict[str, float]
    examples: dict[str, str]


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    tokenizer: jieba.Tokenizer
    lock: threading.Lock


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Read the taxonomy YAML; raise ValueError naming the entry that is malformed."""
    path = path or _rules_file()
    try:
        data = read_yaml(path.read_bytes())
    except OSError as e:
        raise ValueError(f"cannot read the category rules {path}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
        raise ValueError(f"{path}: expected a top-level 'categories:' list")
    cats: list[Category] = []
    for i, entry in enumerate(data["categories"]):
        name = entry.get("name") if isinstance(entry, dict) else None
        if not name:
            raise ValueError(f"{path}: category #{i + 1} has no 'name'")
        kws = entry.get("keywords") or {}
        if not isinstance(kws, dict):
            raise ValueError(f"{path}: keywords of {name} must be a mapping keyword: weight")
        try:
            keywords = {str(k): float(w) for k, w in kws.items()}
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: a weight of {name} is not a number: {e}") from e
        cats.append(Category(str(name), keywords, dict(entry.get("examples") or {})))
    tok = jieba.Tokenizer()
    for c in cats:
        for kw in c.keywords:
            tok.add_word(kw, freq=100000)  # high frequency: the keyword wins the segmentation
    return Taxonomy(tuple(cats), tok, threading.Lock())


@lru_cache(maxsize=1)
def _taxonomy() -> Taxonomy:
    return load_taxonomy()


_NOISE = re.compile(r"[\d.,，%％]+|[“”\"'‘’（）()《》【】\s]")


def segment(text: str, tax: Taxonomy | None = None) -> list[str]:
    """jieba's default-mode words of a text, with the taxonomy keywords as words
    (so 小街小巷 stays one word); punctuation and spaces dropped."""
    tax = tax or _taxonomy()
    with tax.lock:
        return [w for w in tax.tokenizer.lcut(text, HMM=False) if w.strip() and not _NOISE.fullmatch(w)]


def tokens(name: str, tax: Taxonomy | None = None) -> set[str]:
    """The candidate words of a project name: jieba's search-mode tokens (sub-words of
    long words too) plus runs of consecutive default-mode tokens."""
    tax = tax or _taxonomy()
    text = _NOISE.sub(" ", name)
    with tax.lock:  # a jieba Tokenizer initialises lazily and is not thread-safe then
        words = [w for w in tax.tokenizer.lcut(text, HMM=False) if w.strip()]
        search = {w for w in tax.tokenizer.lcut_for_search(text, HMM=False) if w.strip()}
    runs = {"".join(words[i:j]) for i in range(len(words))
            for j in range(i + 1, min(len(words), i + _MAX_RUN) + 1)}
    return search | runs


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc
    return opencc.OpenCC("t2s")


def scores(project: str, tax: Taxonomy | None = None) -> dict[str, float]:
    """Score of each category that has at least one keyword in the project name."""
    tax = tax or _taxonomy()
    # keywords are simplified; a name straight from a traditional-script text still matches
    toks = tokens(_t2s().convert(project), tax)
    found = {kw for c in tax.categories for kw in c.keywords if kw in toks}
    # the longest keyword speaks for its parts: 养老保险 is 社会保障 even though it holds
    # 养老, 农村公路 is 交通 though it holds 农村
    found = {kw for kw in found if not any(kw != other and kw in other for other in found)}
    out: dict[str, float] = {}
    for c in tax.categories:
        s = sum(w for kw, w in c.keywords.items() if kw in found)
        if s > 0:
            out[c.name] = s
    return out


@lru_cache(maxsize=8192)     # a city's project names recur in every report of the year
def categorize(project: str | None) -> str:
    """The category of a project name; 其他 when nothing matches or there is no name."""
    if not project or not project.strip():
        return OTHER
    tax = _taxonomy()
    sc = scores(project, tax)
    if not sc:
        return OTHER
    best = max(sc.values())
    # ties go to the category listed first in the YAML
    return next(c.name for c in tax.categories if sc.get(c.name) == best)
