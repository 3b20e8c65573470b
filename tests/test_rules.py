"""Every rule's examples, counterexamples and known failures, run through the real
extract stage (normalize -> segment -> figures -> context), plus the schema checks."""
from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
import yaml

from extractors.context import rule_matches
from pipeline import rules as rules_mod
from pipeline.extract import extract
from pipeline.normalize import normalize
from pipeline.segment import segment

RULES = rules_mod.load()


def run(text: str, with_layout: bool = False):
    text = normalize(text)
    layout = segment(text, RULES.extra["segment"])
    facts = extract("t", text, layout, RULES)
    return (text, facts, layout) if with_layout else (text, facts)


def cases(kind: str):
    out = []
    for r in RULES.rules:
        for i, ex in enumerate(r.get(kind) or []):
            out.append(pytest.param(r, ex, id=f"{r.id}-{i}"))
    return out


def _num(v):
    return Decimal(str(v))


def _figure(facts, text_):
    hits = [f for f in facts if f.text == text_]
    assert len(hits) == 1, f"expected one figure {text_!r}, found {[(f.text, f.kind) for f in facts]}"
    return hits[0]


@pytest.mark.parametrize("rule,ex", cases("examples"))
def test_example(rule, ex):
    text, facts = run(ex["text"])
    exp = ex["expect"]
    if rule.type == "negative":
        n = exp["not"]
        # no figure may start with those digits (49个 is fine when 9 of 9月 is not)
        assert not any(f.text.startswith(n) and not f.text[len(n):][:1].isdigit() for f in facts), \
            [f.text for f in facts]
        return
    if rule.type == "figure":
        f = _figure(facts, normalize(exp["text"]))
        assert rule.id in f.rule, f.rule
        assert f.value == _num(exp["value"])
        assert f.approx == exp.get("approx", False)
        if "unit" in exp:
            assert f.unit == exp["unit"]
        assert text[f.start:f.end] == f.text
        return
    f = _figure(facts, normalize(exp["figure"]))
    for key, want in exp.items():
        if key == "figure":
            continue
        got = getattr(f, key)
        if key == "each":
            got = got is not None
        assert got == want, f"{key}: {got!r} != {want!r} ({f.rule})"
    # the rule fires on its example (another rule may win the same attribute, nearer or longer)
    text, _, layout = run(ex["text"], with_layout=True)
    before_roles = dataclasses.replace(f, kind=(rule.get("applies_to") or [f.kind])[0]) \
        if "kind" in rule.get("set") else f
    assert rule.id in f.rule or rule_matches(rule, before_roles, text, layout) is not None, f.rule


@pytest.mark.parametrize("rule,ex", cases("counterexamples"))
def test_counterexample(rule, ex):
    if isinstance(ex, str):
        _, facts = run(ex)
        assert not any(rule.id in f.rule.split("+")[0] for f in facts), [(f.text, f.rule) for f in facts]
        return
    _, facts = run(ex["text"])
    hits = [f for f in facts if f.text == normalize(ex["figure"])]
    assert all(rule.id not in f.rule for f in hits), [(f.text, f.rule) for f in hits]


@pytest.mark.parametrize("rule,ex", cases("known_failures"))
def test_known_failure(rule, ex):
    """Strict xfail: when a known failure starts passing, move it to examples."""
    _, facts = run(ex["text"])
    ok = any(f.value == _num(ex["expect"]["value"]) for f in facts)
    if ok:
        pytest.fail(f"{rule.id}: known failure now passes, move it to examples: {ex['text']}")
    pytest.xfail(ex["reason"])


def test_schema_rejects_unknown_keys(tmp_path):
    (tmp_path / "lexicon").mkdir()
    (tmp_path / "lexicon" / "x.yaml").write_text("patterns: {A: 'a'}\n", encoding="utf-8")
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"rules": [
        {"id": "p.x", "pattern": "{A}", "examples": [{"text": "a"}], "bogus": 1}]}), encoding="utf-8")
    with pytest.raises(rules_mod.RulesError, match="unknown keys"):
        rules_mod.load(tmp_path)


@pytest.mark.parametrize("rule, msg", [
    ({"id": "p.x", "pattern": "{NOPE}", "examples": [{"text": "a"}]}, "undefined"),
    ({"id": "p.x", "pattern": "a"}, "example"),
    ({"id": "p.x", "type": "context", "before": "a", "examples": [{"text": "a"}]}, "needs set"),
])
def test_schema_rejects_bad_rules(tmp_path, rule, msg):
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    with pytest.raises(rules_mod.RulesError, match=msg):
        rules_mod.load(tmp_path)


def test_duplicate_ids_rejected(tmp_path):
    r = {"id": "p.x", "pattern": "a", "examples": [{"text": "a"}]}
    (tmp_path / "p.yaml").write_text(yaml.safe_dump({"rules": [r, r]}), encoding="utf-8")
    with pytest.raises(rules_mod.RulesError, match="duplicate"):
        rules_mod.load(tmp_path)


def test_every_figure_offset_points_at_its_text():
    text, facts = run("截至9月底,已完工49个,完成率82%;投入资金近20亿元,惠及4.2万人。")
    assert facts and all(text[f.start:f.end] == f.text for f in facts)


def test_a_before_pattern_spanning_its_scope_is_matched_forward_with_the_same_answer():
    from pipeline.rules import _spans_whole, load
    assert _spans_whole(r"^(?:今年|明年)[,，](?:(?!已)[^\n])*$")
    assert not _spans_whole(r"^今年|计划$")            # alternation at the top: not anchored whole
    assert not _spans_whole(r"计划[^,，]{0,6}$")
    rules = load()
    whole = [r for r in rules.rules if r.before_whole is not None]
    assert whole, "some rules' before spans its scope"
    for prefix in ("今年,县里将新建", "截至9月底,已建成", "今年,", ""):
        for r in whole:
            a, b = r.before.search(prefix), r.before_whole.match(prefix)
            assert (a is None) == (b is None) and (a is None or a.span() == b.span()), (r.id, prefix)
