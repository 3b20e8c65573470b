"""Document metadata: script, city, province, county, year and period end.

Language knowledge (cue phrases, patterns, weights) lives in rules/meta.yaml; this
module is the engine. The place gazetteer is cpca's (adcodes.csv through its
Aho-Corasick matcher), never a hand-written list.

    detect_script(raw_text)      on the text as published (before t2s)
    extract_meta(text, script)   on the normalized (simplified, noise-free) text
"""
from __future__ import annotations

import calendar
import functools
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cpca
import opencc
import regex

from pipeline.rules import read_yaml

RULES_FILE = "meta.yaml"

_HAN = regex.compile(r"\p{Han}")
_CN_MONTH = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10, "十一": 11, "十二": 12}
# Province-level municipalities: their "cities" in cpca are placeholders (市辖区, 县).
_MUNICIPALITIES = {"11", "12", "31", "50"}

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")


# --------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    pattern: regex.Pattern[str] | None
    spec: dict[str, Any]                 # the raw YAML entry (weights, month, examples...)


@dataclass(frozen=True)
class MetaRules:
    boilerplate: list[Rule]
    boilerplate_min_fraction: float
    year_spec: dict[str, Any]
    year_heading: Rule
    year_strong: list[Rule]
    year_weak: list[Rule]
    year_hidden: list[Rule]
    period_reject_before: regex.Pattern[str]
    period_cues: list[Rule]
    place_spec: dict[str, Any]
    issuers: list[tuple[Rule, regex.Pattern[str] | None, regex.Pattern[str] | None]]
    generic_names: frozenset[str] = field(default_factory=frozenset)


def rules_dir() -> Path:
    """The one rules folder (pipeline.rules.rules_dir: --rules, $MINSHENG_RULES, the repo's)."""
    from pipeline.rules import rules_dir as where
    return where()


def _rule(spec: dict[str, Any]) -> Rule:
    pat = spec.get("pattern")
    return Rule(spec["id"], spec["name"], regex.compile(pat) if pat else None, spec)


@functools.cache
def load_rules(path: Path | None = None) -> MetaRules:
    """Read and compile rules/meta.yaml once per path."""
    path = path or rules_dir() / RULES_FILE
    data = read_yaml(Path(path).read_bytes())
    yr, per, pl = data["year"], data["period"], data["place"]
    issuers = []
    for spec in pl["issuer_contexts"]:
        after = regex.compile(spec["after"]) if spec.get("after") else None
        before = regex.compile(spec["before"]) if spec.get("before") else None
        if after is None and before is None:
            raise ValueError(f"{path}: issuer context {spec['id']} needs `after` or `before`")
        issuers.append((_rule(spec), after, before))
    return MetaRules(
        boilerplate=[_rule(s) for s in data["boilerplate"]["markers"]],
        boilerplate_min_fraction=float(data["boilerplate"]["min_fraction_before"]),
        year_spec=yr,
        year_heading=_rule(yr["heading"]),
        year_strong=[_rule(s) for s in yr["strong"]],
        year_weak=[_rule(s) for s in yr["weak"]],
        year_hidden=[_rule(s) for s in yr["hidden"]],
        period_reject_before=regex.compile(per["reject_before"]),
        period_cues=[_rule(s) for s in per["cues"]],
        place_spec=pl,
        issuers=issuers,
        generic_names=frozenset(pl.get("generic_names", [])),
    )


# --------------------------------------------------------------------------- script

# A character's vote, worked out once per process: +1 traditional only, -1 simplified
# only, 0 neither or not Han (a few thousand distinct characters at most).
_SCRIPT_VOTE: dict[str, int] = {}


def detect_script(raw_text: str) -> str:
    """'traditional' or 'simplified': which script the published text is written in.

    Counts Han characters that only t2s changes (traditional forms) against those
    only s2t changes (simplified forms); characters both change, or neither, say
    nothing. Per-character so that a short text still votes; no Han → simplified.
    """
    counts = Counter(raw_text)
    new = [c for c in counts if c not in _SCRIPT_VOTE]
    for c in new:
        if not _HAN.match(c):
            _SCRIPT_VOTE[c] = 0
    new = [c for c in new if c not in _SCRIPT_VOTE]
    if new:
        # one OpenCC call per direction: newline-separated characters convert one by one
        to_s = _T2S.convert("\n".join(new)).split("\n")
        to_t = _S2T.convert("\n".join(new)).split("\n")
        if len(to_s) != len(new) or len(to_t) != len(new):
            raise RuntimeError("OpenCC changed the number of lines while converting characters")
        for c, s, t in zip(new, to_s, to_t):
            _SCRIPT_VOTE[c] = 1 if (s != c and t == c) else -1 if (t != c and s == c) else 0
    trad = sum(n for c, n in counts.items() if _SCRIPT_VOTE[c] > 0)
    simp = sum(n for c, n in counts.items() if _SCRIPT_VOTE[c] < 0)
    return "traditional" if trad > simp else "simplified"


# --------------------------------------------------------------------------- boilerplate

def strip_boilerplate(text: str, rules: MetaRules | None = None) -> str:
    """The text before the boilerplate tail (相关文章, 上一篇 ...).

    A marker cuts only when at least `min_fraction_before` of the text precedes it,
    so a page header such as "相关推荐" above the report keeps the report.
    """
    rules = rules or load_rules()
    floor = len(text) * rules.boilerplate_min_fraction
    cut = len(text)
    for rule in rules.boilerplate:
        for m in rule.pattern.finditer(text):
            if m.start() >= floor:
                cut = min(cut, m.start())
                break
    return text[:cut]


def _heading_spans(text: str, max_lines: int, max_len: int) -> list[tuple[int, int]]:
    """Offsets of the title-like lines: short ones among the first non-empty lines."""
    spans: list[tuple[int, int]] = []
    pos = seen = 0
    for ln in text.splitlines(keepends=True):
        if ln.strip():
            seen += 1
            if len(ln.strip()) <= max_len:
                spans.append((pos, pos + len(ln)))
            if seen >= max_lines:
                break
        pos += len(ln)
    return spans


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


# --------------------------------------------------------------------------- year

def _year_ok(y: int, spec: dict[str, Any]) -> bool:
    return int(spec["min"]) <= y <= int(spec["max"])


def heading_year(body: str, rules: MetaRules | None = None) -> tuple[int | None, str | None]:
    """The year named in the title lines (关于2019年...的报告), with the line."""
    rules = rules or load_rules()
    spec = rules.year_spec["heading"]
    for line in _lines(body)[: int(spec["max_lines"])]:
        if len(line) > int(spec["max_len"]):
            continue
        years = [int(m["y"]) for m in rules.year_heading.pattern.finditer(line)]
        years = [y for y in years if _year_ok(y, rules.year_spec)]
        if years:
            return years[0], line
    return None, None


def year_votes(body: str, rules: MetaRules | None = None) -> tuple[Counter[int], Counter[int], int]:
    """(strong votes, weak votes, hidden-year count) over the body."""
    rules = rules or load_rules()
    strong: Counter[int] = Counter()
    weak: Counter[int] = Counter()
    for rule in rules.year_strong:
        strong.update(int(m["y"]) for m in rule.pattern.finditer(body))
    for rule in rules.year_weak:
        weak.update(int(m["y"]) for m in rule.pattern.finditer(body))
    strong = Counter({y: n for y, n in strong.items() if _year_ok(y, rules.year_spec)})
    weak = Counter({y: n for y, n in weak.items() if _year_ok(y, rules.year_spec)})
    hidden = sum(len(rule.pattern.findall(body)) for rule in rules.year_hidden)
    return strong, weak, hidden


def extract_year(body: str, rules: MetaRules | None = None) -> tuple[int | None, str | None]:
    """The year the projects belong to, and the evidence phrase.

    Title line first; else the most frequent explicit 20NN年 (ties: the later year),
    dates and document numbers counting a fraction. A text that hides its years
    (20xx年) more often than it names any one year has no year.
    """
    rules = rules or load_rules()
    year, line = heading_year(body, rules)
    if year is not None:
        return year, line
    strong, weak, hidden = year_votes(body, rules)
    if hidden and (not strong or hidden > max(strong.values())):
        return None, None
    w = float(rules.year_spec["weak_weight"])
    score: defaultdict[int, float] = defaultdict(float)
    for y, n in strong.items():
        score[y] += n
    for y, n in weak.items():
        score[y] += n * w
    if not score:
        return None, None
    best = max(score, key=lambda y: (score[y], y))
    return best, f"{best}年 ×{strong[best]}" + (f" (+{weak[best]} dates/文号)" if weak[best] else "")


# --------------------------------------------------------------------------- period end

@dataclass(frozen=True)
class PeriodCue:
    rule_id: str
    year: int | None          # the year the cue itself names, if any
    month: int
    day: int | None
    fallback: bool
    start: int
    end: int
    text: str


def _month(s: str) -> int | None:
    m = int(s) if s.isdigit() else _CN_MONTH.get(s)
    return m if m is not None and 1 <= m <= 12 else None


def find_period_cues(body: str, rules: MetaRules | None = None) -> list[PeriodCue]:
    """Every reporting-period cue in the body, plans (确保上半年...) left out."""
    rules = rules or load_rules()
    cues: list[PeriodCue] = []
    for rule in rules.period_cues:
        for m in rule.pattern.finditer(body):
            if rules.period_reject_before.search(body, max(0, m.start() - 6), m.start()):
                continue
            gd = m.groupdict()
            month = _month(gd["m"]) if gd.get("m") else rule.spec.get("month")
            if month is None:
                continue
            day = int(gd["d"]) if gd.get("d") else rule.spec.get("day")
            year = int(gd["y"]) if gd.get("y") else None
            cues.append(PeriodCue(rule.id, year, int(month), day, bool(rule.spec.get("fallback")),
                                  m.start(), m.end(), m.group()))
    return cues


def period_end(body: str, year: int | None, rules: MetaRules | None = None) -> tuple[str | None, str | None]:
    """The 'as of' date (YYYY-MM-DD) of the figures, and the cue it came from.

    Needs the year. The most frequent cue date wins (ties: the later date); cues naming
    another year describe the past and are skipped; fallback cues count only alone.
    """
    if year is None:
        return None, None
    cues = [c for c in find_period_cues(body, rules) if c.year in (None, year)]
    main = [c for c in cues if not c.fallback] or cues
    dates: Counter[tuple[int, int]] = Counter()
    first: dict[tuple[int, int], PeriodCue] = {}
    for c in main:
        last = calendar.monthrange(year, c.month)[1]
        day = c.day if c.day is not None and 1 <= c.day <= last else last
        dates[(c.month, day)] += 1
        first.setdefault((c.month, day), c)
    if not dates:
        return None, None
    best = max(dates, key=lambda md: (dates[md], md))
    return f"{year:04d}-{best[0]:02d}-{best[1]:02d}", first[best].text


# --------------------------------------------------------------------------- place

@dataclass
class Mention:
    name: str                          # as written (运城市, 连云港, 海州区)
    infos: list[Any]                   # cpca AddrInfo candidates (several when ambiguous)
    start: int
    end: int                           # exclusive
    weight: float
    rule_id: str | None                # the heaviest issuer context that fired, if any
    phrase: str = ""                   # the mention with its issuer contexts, for evidence
    fired: tuple[str, ...] = ()        # every issuer context that fired
    in_heading: bool = False


def _unit_name(adcode6: str) -> str | None:
    info = cpca.ad_2_addr_dict.get(adcode6.ljust(12, "0"))
    return info.name if info else None


def _city_of(info: Any) -> tuple[str, str] | None:
    """(city key, city name) a gazetteer unit belongs to; None for a province."""
    code = info.adcode
    if info.rank == 0:
        # a municipality is its own city (北京市)
        return (code[:2], info.name) if code[:2] in _MUNICIPALITIES else None
    if code[:2] in _MUNICIPALITIES:
        return code[:2], _unit_name(code[:2] + "0000") or info.name
    if info.rank == 1:
        return code[:4], info.name
    parent = _unit_name(code[:4] + "00")
    if parent is None or parent.endswith("直辖县级行政区划"):
        # 济源市, 仙桃市: county-level cities directly under the province
        return code, info.name
    return code[:4], parent


def place_mentions(body: str, rules: MetaRules | None = None) -> list[Mention]:
    """Gazetteer mentions in the body with their weights.

    Full names (运城市, 盐湖区, 河津市) and abbreviations of cities and provinces
    (运城, 连云港, 江苏) count; abbreviations of county-level cities (合作, 东方, 海宁)
    are everyday words and do not. Generic names (县, 城区) are skipped.
    """
    rules = rules or load_rules()
    spec = rules.place_spec
    heading = _heading_spans(body, int(spec["heading_lines"]), int(spec["heading_max_len"]))
    out: list[Mention] = []
    for m in cpca.matcher.iter(body):
        name: str = m.origin_value
        infos = list(m.attr_infos)
        if len(name) < 2 or name in rules.generic_names:
            continue
        full = any(name == i.name for i in infos)
        if not full and infos[0].rank == 2:
            continue
        start, end = m.start_index, m.end_index + 1
        weight = float(spec["mention_weight"])
        in_heading = any(a <= start < b for a, b in heading)
        if in_heading:
            weight = max(weight, float(spec["heading_weight"]))
        rule_id, fired, left, right = None, [], start, end
        for rule, after, before in rules.issuers:
            a = after.match(body, end, min(len(body), end + 30)) if after else None
            b = before.search(body, max(0, start - 30), start) if before else None
            if not (a or b):
                continue
            fired.append(rule.id)
            left, right = min(left, b.start() if b else start), max(right, a.end() if a else end)
            if float(rule.spec["weight"]) > weight:
                weight, rule_id = float(rule.spec["weight"]), rule.id
        out.append(Mention(name, infos, start, end, weight, rule_id,
                           body[left:right].strip(), tuple(fired), in_heading))
    return out


@dataclass(frozen=True)
class Place:
    city: str | None
    province: str | None
    county: str | None
    evidence: dict[str, str]


def _phrase(body: str, m: Mention) -> str:
    """The mention with its issuer context, else a little context, on one line."""
    if m.rule_id:
        return " ".join(m.phrase.split())
    return " ".join(body[max(0, m.start - 6): min(len(body), m.end + 8)].split())


def locate(body: str, rules: MetaRules | None = None) -> Place:
    """City, province and county the document speaks for, by weighted vote.

    Unambiguous mentions vote first; a name cpca knows in several places (海州区 is
    in 阜新 and 连云港) then goes to the candidate whose city, else province, already
    has votes. The province is the city's; named provinces decide only without a city,
    or when the province issues the title (山西省人民政府关于...) and no city does.
    """
    rules = rules or load_rules()
    mentions = place_mentions(body, rules)
    city_score: defaultdict[str, float] = defaultdict(float)
    city_name: dict[str, str] = {}
    city_best: dict[str, Mention] = {}
    city_best_key: dict[str, tuple[float, bool]] = {}
    prov_score: defaultdict[str, float] = defaultdict(float)
    county_issuer: defaultdict[str, float] = defaultdict(float)   # county adcode -> issuer weight
    county_issues: Counter[str] = Counter()   # issuer mentions of a county, a title one counting 2
    city_issuer: defaultdict[str, float] = defaultdict(float)     # city key -> its own issuer weight
    prov_heading_issuer: set[str] = set()     # provinces issuing in the title (山西省人民政府关于...)
    city_heading_issuer: set[str] = set()

    def vote(info: Any, m: Mention) -> None:
        prov_score[info.adcode[:2]] += m.weight
        c = _city_of(info)
        if c is None:
            if m.rule_id and m.in_heading:
                prov_heading_issuer.add(info.adcode[:2])
            return
        key, nm = c
        city_score[key] += m.weight
        city_name[key] = nm
        # evidence: the heaviest, earliest mention, the city's own name before its districts'
        rank_key = (m.weight, info.rank < 2)
        if key not in city_best or rank_key > city_best_key[key]:
            city_best[key], city_best_key[key] = m, rank_key
        if m.rule_id and m.in_heading:
            city_heading_issuer.add(key)
        if m.rule_id:
            if info.rank == 2 and key != info.adcode:
                county_issuer[info.adcode] += m.weight
                county_issues[info.adcode] += 1 + m.in_heading
            else:
                city_issuer[key] += m.weight

    def support(info: Any) -> tuple[float, float]:
        c = _city_of(info)
        return (city_score.get(c[0], 0.0) if c else 0.0, prov_score.get(info.adcode[:2], 0.0))

    ambiguous = []
    for m in mentions:
        if len(m.infos) == 1:
            vote(m.infos[0], m)
        else:
            ambiguous.append(m)
    for m in ambiguous:
        ranked = sorted(m.infos, key=support, reverse=True)
        if support(ranked[0]) > (0.0, 0.0) and support(ranked[0]) != support(ranked[1]):
            vote(ranked[0], m)

    evidence: dict[str, str] = {}
    min_score = float(rules.place_spec["min_score"])
    if city_score:
        key = max(city_score, key=lambda k: city_score[k])
        # a provincial report lists its cities: the province issuing its title wins
        provincial = bool(prov_heading_issuer) and key not in city_heading_issuer
        if city_score[key] >= min_score and not provincial:
            city = city_name[key]
            province = _unit_name(key[:2] + "0000")
            evidence["city"] = _phrase(body, city_best[key])
            evidence["province"] = f"{city} → {province}"
            county = None
            counties = {c: w for c, w in county_issuer.items() if c.startswith(key)}
            if counties:
                top = max(counties, key=lambda c: counties[c])
                # a county speaks for the report when it issues it more than the city does,
                # in the title or repeatedly (not once in a list of responsible units)
                if counties[top] > city_issuer.get(key, 0.0) and county_issues[top] >= 2:
                    county = _unit_name(top)
                    evidence["county"] = next(_phrase(body, m) for m in mentions
                                              if m.rule_id and any(i.adcode == top for i in m.infos))
            return Place(city, province, county, evidence)
    if prov_score:
        code = max(prov_score, key=lambda k: prov_score[k])
        if prov_score[code] >= min_score:
            province = _unit_name(code + "0000")
            evidence["province"] = province or ""
            return Place(None, province, None, evidence)
    return Place(None, None, None, evidence)


# --------------------------------------------------------------------------- API

def extract_meta(text: str, script: str) -> dict[str, Any]:
    """City, province, county, year and period end of a normalized document.

    `text` is simplified with pinyin noise removed; `script` (from detect_script on the
    raw text) is passed through. Evidence maps each found key to the phrase it came from.
    """
    rules = load_rules()
    body = strip_boilerplate(text, rules)
    place = locate(body, rules)
    year, year_ev = extract_year(body, rules)
    end, end_ev = period_end(body, year, rules)
    evidence = dict(place.evidence)
    if year_ev:
        evidence["year"] = year_ev
    if end_ev:
        evidence["period_end"] = end_ev
    return {"city": place.city, "province": place.province, "year": year,
            "period_end": end, "county": place.county, "script": script,
            "evidence": evidence}
