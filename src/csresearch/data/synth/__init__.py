"""A deterministic synthetic B2B SaaS world with planted, recorded truths.

``build_world()`` simulates accounts, subscriptions (with expansion, contraction, churn and
reactivation), product usage, onboarding, support, CS touchpoints, surveys, churn reasons, one
randomized CS experiment and one non-randomized feature adoption (and, as an option, a three-arm
randomized e-mail experiment with visit and purchase outcomes). Every causal mechanism that an
analysis in the workbook tries to recover is planted with a known size and written into
``World.truth`` (JSON-serialisable), so the notebooks can be checked against the truth.

Time runs on a monthly grid of *billing boundaries*: account ``i`` has a billing day ``d_i``
(2..28) and its boundaries fall on day ``d_i`` of every calendar month. Subscriptions start and end
only on boundaries, so a churn at the boundary in calendar month ``M`` is exactly the contract's
"MRR > 0 at the end of M-1 and 0 at the end of M". Period ``g`` is the month of service that ends at
the boundary of calendar month ``g`` (``g = 0`` is the first month of the data window).

See ``docs/synthetic-world.md`` for the mechanisms and their sizes.

Modules: ``params`` (constants and DEFAULT_PARAMS), ``helpers``, ``base`` (the calendar grid and
random streams), ``population``, ``simulate``, ``tables_activity``, ``tables_outcomes``, ``truth``,
``email_campaign`` (the optional e-mail experiment), ``world`` (World, build_world) and ``save``
(save_world).
"""

from __future__ import annotations

from .params import (
    ADDON,
    ADOPT_ID,
    CHANNELS,
    CHURN_REASONS,
    COMPETITORS,
    DATE_COLUMNS,
    DEFAULT_PARAMS,
    EMAIL_EXPERIMENT_DEFAULTS,
    EMAIL_ID,
    EXP_ID,
    FEATURES,
    INDUSTRIES,
    MILESTONES,
    PLANS,
    REGION_UTC_OFFSET_H,
    REGIONS,
    SEGMENTS,
    SYNTH_VERSION,
    TABLE_NAMES,
    TICKET_CATEGORIES,
    TIERS,
    TIMESTAMP_COLUMNS,
)
from .save import save_world
from .world import World, build_world

__all__ = [
    "World",
    "build_world",
    "save_world",
    "ADDON",
    "ADOPT_ID",
    "CHANNELS",
    "CHURN_REASONS",
    "COMPETITORS",
    "DATE_COLUMNS",
    "DEFAULT_PARAMS",
    "EMAIL_EXPERIMENT_DEFAULTS",
    "EMAIL_ID",
    "EXP_ID",
    "FEATURES",
    "INDUSTRIES",
    "MILESTONES",
    "PLANS",
    "REGION_UTC_OFFSET_H",
    "REGIONS",
    "SEGMENTS",
    "SYNTH_VERSION",
    "TABLE_NAMES",
    "TICKET_CATEGORIES",
    "TIERS",
    "TIMESTAMP_COLUMNS",
]
