"""Load, validate and compile the YAML rules once.

Rules are data (rules/*.yaml): named regex pieces and word lists in rules/lexicon/,
one file per dimension with a list of named rules, each carrying examples that
tests/test_rules.py runs. `{NAME}` in a pattern expands to a named piece or list.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regex
import yaml

RULE_KEYS = {
    "id", "name", "type", "produce", "pattern", "unit", "scope", "before", "after",
    "applies_to", "set", "units", "units_not", "in_table", "caption", "requires",
    "examples", "counterexamples", "known_failures", "note", "scale", "priority", "in_title", "header", "section_lead",
    "header_unit", "header_not", "unitless_under", "unitless_beside", "list_cue", "list_not",
}
RULE_TYPES = {"figure", "negative", "context"}
SCOPES = {"clause", "semi", "sentence", "cell", "line"}


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)   # libyaml: 7x faster start-up


def read_yaml(data: bytes | str) -> Any:
    """Parse YAML safely; every rules file is read through here."""
    return yaml.load(data, Loader=_YAML_LOADER)


class RulesError(Exception):
    """A rules file that cannot be used; the message names the file and the rule."""


@dataclass
class Rule:
    id: str
    name: str
    type: str
    file: str
    data: dict[str, Any]
    pattern: regex.Pattern | None = None
    before: regex.Pattern | None = None
    after: regex.Pattern | None = None
    caption: regex.Pattern | None = None
    header: regex.Pattern | None = None
    list_cue: regex.Pattern | None = None   # the figure is in an item of a list this introduces
    list_not: regex.Pattern | None = None   # ... and in none that this introduces
    # the conditions of a context rule, read once (the hot loop asks them for every figure)
    applies: frozenset | None = None
    units: frozenset | None = None
    units_not: frozenset | None = None
    scope: str = "clause"
    in_table: bool | None = None
    section_lead: bool = False
    in_title: bool = False
    # `before` spanning its whole scope (^…$) can only match all of it: a forward match from the
    # scope's start answers it, failing at once where the head does not fit
    before_whole: regex.Pattern | None = None
    sets: tuple = ()                      # the (attribute, value) pairs a context rule sets

    def __post_init__(self) -> None:
        d = self.data
        self.applies = frozenset(d["applies_to"]) if d.get("applies_to") else None
        self.units = frozenset(d["units"]) if d.get("units") else None
        self.units_not = frozenset(d["units_not"]) if d.get("units_not") else None
        self.scope = d.get("scope", "clause")
        self.in_table = d.get("in_table")
        self.section_lead = bool(d.get("section_lead"))
        self.in_title = bool(d.get("in_title"))
        self.sets = tuple((d.get("set") or {}).items()) if self.type == "context" else ()

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


@dataclass
class Rules:
    dir: Path
    hash: str
    pieces: dict[str, str]
    hedges: dict[str, str]
    scales: dict[str, int]
    rules: list[Rule] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)   # other data files by stem
    _compiled: dict[str, regex.Pattern] = field(default_factory=dict, repr=False)

    def of(self, file_stem: str) -> list[Rule]:
        return [r for r in self.rules if r.file == file_stem]

    def by_type(self, type_: str) -> list[Rule]:
        return [r for r in self.rules if r.type == type_]

    def compile(self, pattern: str) -> regex.Pattern:
        if pattern not in self._compiled:
            self._compiled[pattern] = regex.compile(expand(pattern, self.pieces), regex.V1)
        return self._compiled[pattern]


def rules_dir(option: str | Path | None = None) -> Path:
    """Where the rules are: the option, then $MINSHENG_RULES, then the rules shipped with the code."""
    for cand in (option, os.environ.get("MINSHENG_RULES")):
        if cand:
            p = Path(cand)
            if not p.is_dir():
                raise RulesError(f"rules folder {p} does not exist: pass --rules DIR or fix MINSHENG_RULES")
            return p
    return _default_rules()


def _default_rules() -> Path:
    """The rules that ship with the code: the package data minsheng.rules of an installed
    wheel, else the repo's rules/ next to pipeline/ (a clone or an editable install, whose
    finder does not map the data-only package)."""
    from importlib.util import find_spec

    try:    # a namespace package (no __init__.py): its folder, not importlib.resources' view
        spec = find_spec("minsheng.rules")
    except ModuleNotFoundError:
        spec = None
    for where in (spec and spec.submodule_search_locations) or ():
        if (Path(where) / "meta.yaml").is_file():
            return Path(where)
    return Path(__file__).resolve().parent.parent / "rules"


_REF = regex.compile(r"\{([A-Z][A-Z0-9_]*)\}")


def expand(pattern: str, pieces: dict[str, str], _depth: int = 0) -> str:
    """Replace {NAME} by its piece, recursively; an unknown name is an error."""
    if _depth > 20:
        raise RulesError(f"pattern pieces refer to each other in a loop: {pattern[:60]}")

    def sub(m: regex.Match) -> str:
        name = m.group(1)
        if name not in pieces:
            raise RulesError(f"undefined {{{name}}} in pattern {pattern!r}")
        return "(?:" + expand(pieces[name], pieces, _depth + 1) + ")"

    return _REF.sub(sub, pattern)


def _alternation(words: list[str]) -> str:
    return "|".join(regex.escape(w) for w in sorted(set(map(str, words)), key=lambda w: (-len(w), w)))


def load(dir_: str | Path | None = None) -> Rules:
    """Read every YAML file under the rules folder, validate and compile it."""
    root = rules_dir(dir_)
    files = sorted(root.rglob("*.yaml"))
    if not files:
        raise RulesError(f"no rules (*.yaml) in {root}")
    digest = hashlib.sha256()
    docs: dict[str, Any] = {}
    for f in files:
        raw = f.read_bytes()
        digest.update(f.relative_to(root).as_posix().encode() + b"\0" + raw)
        try:
            docs[f.relative_to(root).with_suffix("").as_posix()] = read_yaml(raw) or {}
        except yaml.YAMLError as e:
            raise RulesError(f"{f}: not valid YAML: {e}") from e

    pieces: dict[str, str] = {}
    hedges: dict[str, str] = {}
    scales: dict[str, int] = {}
    for stem, doc in docs.items():
        # lexicon files that define named pieces; other data files are kept as they are
        if not stem.startswith("lexicon/") or not isinstance(doc.get("patterns", {}), dict):
            continue
        for name, pat in (doc.get("patterns") or {}).items():
            pieces[name] = str(pat)
        for name, words in (doc.get("lists") or {}).items():
            pieces[name] = _alternation(words)
        hedges.update(doc.get("hedges") or {})
        scales.update({k: int(v) for k, v in (doc.get("scales") or {}).items()})

    rules = Rules(dir=root, hash=digest.hexdigest()[:16], pieces=pieces, hedges=hedges, scales=scales)
    seen: set[str] = set()
    for stem, doc in docs.items():
        if not isinstance(doc, dict) or "rules" not in doc:
            rules.extra[stem] = doc
            continue
        for i, data in enumerate(doc["rules"] or []):
            rules.rules.append(_rule(stem, i, data, pieces, seen))
    return rules


def _spans_whole(pattern: str) -> bool:
    """Anchored at both ends with no alternation outside brackets (^(?:…|…)…$)."""
    if not (pattern.startswith("^") and pattern.endswith("$") and not pattern.endswith("\\$")):
        return False
    depth, klass, i = 0, False, 1
    while i < len(pattern) - 1:
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if klass:
            klass = c != "]"
        elif c == "[":
            klass = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            return False
        i += 1
    return True


def _rule(stem: str, i: int, data: dict, pieces: dict[str, str], seen: set[str]) -> Rule:
    where = f"rules/{stem}.yaml rule #{i + 1}"
    if not isinstance(data, dict) or "id" not in data:
        raise RulesError(f"{where}: a rule needs an id")
    rid = str(data["id"])
    where = f"rules/{stem}.yaml rule {rid}"
    unknown = set(data) - RULE_KEYS
    if unknown:
        raise RulesError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(RULE_KEYS)}")
    if rid in seen:
        raise RulesError(f"{where}: duplicate id")
    seen.add(rid)
    type_ = data.get("type", "figure")
    if type_ not in RULE_TYPES:
        raise RulesError(f"{where}: type must be one of {sorted(RULE_TYPES)}")
    if not data.get("examples"):
        raise RulesError(f"{where}: a rule needs at least one example")
    if data.get("scope", "clause") not in SCOPES:
        raise RulesError(f"{where}: scope must be one of {sorted(SCOPES)}")

    def comp(key: str) -> regex.Pattern | None:
        if key not in data:
            return None
        # `before` is searched from the figure backwards: the nearest cue wins
        flags = regex.V1 | (regex.REVERSE if key == "before" else 0)
        try:
            return regex.compile(expand(str(data[key]), pieces), flags)
        except regex.error as e:
            raise RulesError(f"{where}: {key} does not compile: {e}") from e

    rule = Rule(id=rid, name=str(data.get("name", rid)), type=type_, file=stem, data=data,
                pattern=comp("pattern"), before=comp("before"), after=comp("after"),
                caption=comp("caption"), header=comp("header"), list_cue=comp("list_cue"),
                list_not=comp("list_not"))
    if _spans_whole(str(data.get("before", ""))):
        rule.before_whole = regex.compile(expand(str(data["before"]), pieces), regex.V1)
    if type_ in ("figure", "negative") and rule.pattern is None:
        raise RulesError(f"{where}: a {type_} rule needs a pattern")
    if type_ == "context" and not (rule.before or rule.after):
        raise RulesError(f"{where}: a context rule needs before or after")
    if type_ == "context" and not data.get("set"):
        raise RulesError(f"{where}: a context rule needs set")
    return rule
