"""Small word helpers shared by the churn-drivers sentences (:mod:`.words`) and its call-list sentences
(:mod:`.words_calllist`): machine values as a reader names them, plurals, brackets and list joins in the run's
language."""

from __future__ import annotations

import pandas as pd

from ...core.risk import level_label
from ...i18n import N_, _, join_sentences, ngettext
from ...text import format_each

# machine values a reader sees in a table or a sentence (billing period, touch tier, health band): the
# labels live in csresearch.core.risk.level_label; the CSVs keep the machine values
VALUE_LABELS = ("billing_period", "touch_tier", "health_band")


def value_label(column: str, value) -> str:
    """A machine value as a reader names it in the run's language (``annual`` -> 年次 in Japanese);
    English shows the value itself, and any value not listed (a company's own code) as it is."""
    return level_label(column, value)


def value_labels(column: str, values: pd.Series) -> pd.Series:
    """:func:`value_label` of every value (each distinct value translated once)."""
    return pd.Series(format_each(values, lambda v: value_label(column, v) if pd.notna(v) else v),
                     index=values.index, dtype=object)


# account attributes the cohort charts title (features.describe reads them from the catalog)
ATTRIBUTE_NAMES = (N_("industry"), N_("acquisition channel"))


DIRECTIONS = {
    "lower means more churn": N_("lower means more churn"), "higher means more churn": N_("higher means more churn"),
    "lower means more expansion": N_("lower means more expansion"),
    "higher means more expansion": N_("higher means more expansion"),
    "flat": N_("flat"), "by category": N_("by category"), "unclear": N_("unclear"),
}


def direction_label(direction: str) -> str:
    """A driver's direction (drivers.csv keeps the English code) in the run's language."""
    return _(DIRECTIONS[direction]) if direction in DIRECTIONS else str(direction)


def _plural(n: int, template: str, **fields) -> str:
    """A "{n} thing(s)" template (the ``ngettext`` of its two forms, written out literally at the call so the
    catalog sees them), the count written with a thousands separator and any other named ``fields`` filled in."""
    return template.format(n=f"{int(n):,}", **fields)


def _accounts(n: int) -> str:
    return _plural(n, ngettext("{n} account", "{n} accounts", n))


def _paying(n: int) -> str:
    return _plural(n, ngettext("{n} paying account", "{n} paying accounts", n))


def _days(n: int) -> str:
    return _plural(n, ngettext("{n} day", "{n} days", n))


def paren(text: str) -> str:
    """`` (text)``: a space and round brackets in English, full-width brackets in Japanese."""
    return _(" ({text})").format(text=text)


def _list(items) -> str:
    # TRANSLATORS: the separator of a list of names ("a, b, c")
    return _(", ").join(items)


def _sentences(*parts: str) -> str:
    return join_sentences(*parts)
