"""The examples in rules/categories.yaml are the tests of the taxonomy."""
from __future__ import annotations

import pytest

from extractors.category import OTHER, _taxonomy, categorize, load_taxonomy

TAXONOMY = ["教育", "医疗卫生", "养老", "就业", "社会保障", "住房", "交通", "生态环境",
            "文化体育", "公共安全", "乡村振兴", "城市建设", "其他"]
EXAMPLES = [(c.name, name, want) for c in _taxonomy().categories for name, want in c.examples.items()]


def test_taxonomy_is_the_agreed_one() -> None:
    assert sorted(c.name for c in _taxonomy().categories) == sorted(TAXONOMY)


def test_every_category_has_three_examples() -> None:
    for c in _taxonomy().categories:
        assert len(c.examples) >= 3, f"{c.name} needs at least 3 examples"


@pytest.mark.parametrize("cat,name,want", EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_examples(cat: str, name: str, want: str) -> None:
    assert categorize(name) == want


@pytest.mark.parametrize("name,want", [
    ("新建60个日间照料中心", "养老"),
    ("免费送戏下乡2000场", "文化体育"),
    ("两癌检查", "医疗卫生"),
    ("小街小巷改造", "城市建设"),
    ("全民技能提升工程", "就业"),
])
def test_brief_examples(name: str, want: str) -> None:
    assert categorize(name) == want


@pytest.mark.parametrize("name", [None, "", "   "])
def test_empty_is_other(name: str | None) -> None:
    assert categorize(name) == OTHER


def test_private_tokenizer_leaves_global_jieba_alone() -> None:
    import jieba
    categorize("送戏下乡")
    assert "送戏下乡" not in jieba.lcut("送戏下乡", HMM=False)


def test_malformed_rules_say_what_is_wrong(tmp_path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("categories:\n  - keywords: {a: 1}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no 'name'"):
        load_taxonomy(p)
    p.write_text("categories:\n  - name: X\n    keywords: {a: lots}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a number"):
        load_taxonomy(p)
