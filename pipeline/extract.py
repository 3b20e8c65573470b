"""The extract stage: figures (extractors/figures.py) and what their context says
about them (extractors/context.py)."""
from __future__ import annotations

from extractors.context import apply_context
from extractors.figures import find_figures
from pipeline.rules import Rules
from pipeline.segment import Layout
from pipeline.types import Fact


def extract(doc: str, text: str, layout: Layout, rules: Rules) -> list[Fact]:
    facts = find_figures(doc, text, layout, rules)
    apply_context(facts, text, layout, rules)
    return facts
