"""The options of a choice field (select, radio buttons, checkboxes), built one way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from wtforms.fields.choices import SelectChoice


def options(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """One ``SelectChoice`` per (value, label) pair, in order.

    ``pairs`` is a mapping of value to label, or an iterable of (value, label)
    tuples. WTForms deprecates tuples as the ``choices`` of a field.
    """
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return [SelectChoice(value, label) for value, label in items]
