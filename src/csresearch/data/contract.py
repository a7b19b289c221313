"""The data contract: which tables a user hands us, their columns, and the rules they must keep.

Every rule is declared once here and executed as SQL inside the engine (DuckDB by default), so the
same check runs on a 2,000-row CSV and on a 100-million-row events table without pulling the table
into pandas. A rule names the table, the column, what it checks and how bad rows are handled:

- ``error``  stops the run with a :class:`ContractError` naming table, column, rule, row count and
  a few examples;
- ``reject`` is an error too, unless the user allows rejection (``reject_invalid_rows: true``),
  in which case the rows are dropped *and counted* in the data-quality summary every report prints.

Every column is also checked to parse as its type (``csresearch.data.casts`` builds the casts, for
DuckDB, PostgreSQL and Spark alike). A value that does not is a ``reject`` violation, never a quiet
NULL or a number bent into shape:

- ``timestamp``: a time with a UTC offset or zone is converted to UTC; a naive time *is* UTC; a text
  column mixing the two is an ``error`` ("mixes times with and without a UTC offset");
- ``number``: a finite number: ``NaN``, ``inf``, ``n/a`` or ``-`` are not numbers;
- ``integer``: a whole number (``5`` or ``5.0``; ``2.5`` is not rounded, it breaks the rule);
- ``date``, ``boolean``: as ``SQL_TYPES`` and the boolean spellings say.

The prose version for users lives in ``docs/data-contract.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "date", "timestamp", "number", "integer", "boolean"]

SQL_TYPES: dict[str, str] = {
    "string": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "number": "DOUBLE",
    "integer": "BIGINT",
    "boolean": "BOOLEAN",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    required: bool = False  # the column must be present in the source
    not_null: bool = False
    description: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    source: str  # which system usually owns it; for the docs
    columns: tuple[Column, ...]
    required: bool = False
    key: tuple[str, ...] = ()  # unique key
    description: str = ""

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class Rule:
    """A row-level rule: ``bad_rows`` is a SQL predicate that is TRUE for rows that break it."""

    table: str
    column: str
    name: str
    bad_rows: str
    handling: Literal["error", "reject"] = "reject"
    needs: tuple[str, ...] = field(default=())  # other tables the predicate reads


def _c(name, type_, required=False, not_null=False, description=""):
    return Column(name, type_, required, not_null, description)


TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "accounts",
            "CRM",
            (
                _c("account_id", "string", True, True, "the key every system shares"),
                _c("created_at", "date", True, True),
                _c("account_name", "string", description="may be pseudonymised in reports"),
                _c("segment", "string", description="e.g. SMB, Mid-Market, Enterprise"),
                _c("industry", "string"),
                _c("region", "string"),
                _c("acquisition_channel", "string"),
                _c("csm_owner", "string"),
                _c("touch_tier", "string", description="high, low or tech"),
            ),
            required=True,
            key=("account_id",),
            description="One row per customer account.",
        ),
        Table(
            "subscriptions",
            "billing",
            (
                _c("subscription_id", "string", True, True),
                _c("account_id", "string", True, True),
                _c("product", "string", True, description="plan or product name"),
                _c("start_date", "date", True, True, "inclusive"),
                _c("end_date", "date", True, description="exclusive; null while active"),
                _c("mrr", "number", True, True, "monthly recurring revenue, one currency"),
                _c("billing_period", "string", description="monthly, quarterly, annual, multi_year"),
                _c("seats", "integer", description="a whole number"),
                _c("currency", "string", description=(
                    "ISO 4217 code; one per run, and the run's `currency` setting (default USD): yen data "
                    "runs with -p currency=JPY")),
            ),
            required=True,
            key=("subscription_id",),
            description="One row per subscription line item at one price.",
        ),
        Table(
            "usage_events",
            "product analytics",
            (
                _c("account_id", "string", True, True),
                _c("user_id", "string"),
                _c("event_time", "timestamp", True, True, "UTC"),
                _c("event_name", "string", True, True),
                _c("quantity", "number", description="default 1"),
            ),
            description="One row per product event; the big table.",
        ),
        Table(
            "onboarding",
            "CS tool",
            (
                _c("account_id", "string", True, True),
                _c("milestone", "string", True, True),
                _c("achieved_at", "date", True, description="null if not yet reached"),
            ),
            key=("account_id", "milestone"),
        ),
        Table(
            "support_tickets",
            "help desk",
            (
                _c("ticket_id", "string", True, True),
                _c("account_id", "string", True, True),
                _c("created_at", "timestamp", True, True),
                _c("resolved_at", "timestamp"),
                _c("priority", "string"),
                _c("category", "string"),
                _c("csat", "number", description="1-5"),
            ),
            key=("ticket_id",),
        ),
        Table(
            "cs_activities",
            "CS tool",
            (
                _c("activity_id", "string", True, True),
                _c("account_id", "string", True, True),
                _c("occurred_at", "timestamp", True, True),
                _c("activity_type", "string", True),
                _c("owner", "string"),
            ),
            key=("activity_id",),
        ),
        Table(
            "surveys",
            "survey tool",
            (
                _c("account_id", "string", True, True),
                _c("user_id", "string"),
                _c("answered_at", "timestamp", True, True),
                _c("survey_type", "string", True, True, "nps or csat"),
                _c("score", "number", True, True),
            ),
        ),
        Table(
            "experiments",
            "CS ops",
            (
                _c("experiment_id", "string", True, True),
                _c("account_id", "string", True, True),
                _c("arm", "string", True, True),
                _c("assigned_at", "date", True, True),
                _c("exposed", "boolean"),
            ),
            key=("experiment_id", "account_id"),
        ),
        Table(
            "churn_reasons",
            "CRM",
            (
                _c("account_id", "string", True, True),
                _c("churn_date", "date", True, True),
                _c("reason", "string", True),
                _c("sub_reason", "string"),
                _c("competitor", "string"),
                _c("comment", "string"),
            ),
        ),
    ]
}

REQUIRED_TABLES = [name for name, t in TABLES.items() if t.required]


def _known_account(table: str) -> Rule:
    return Rule(
        table,
        "account_id",
        "account_id must exist in accounts",
        "account_id NOT IN (SELECT account_id FROM accounts)",
        handling="reject",
        needs=("accounts",),
    )


# Row rules beyond "not null", "parses as its type" and "unique key", which are derived from TABLES.
ROW_RULES: list[Rule] = [
    _known_account("subscriptions"),
    Rule("subscriptions", "end_date", "end_date must be after start_date", "end_date <= start_date"),
    Rule("subscriptions", "mrr", "mrr must be >= 0", "mrr < 0"),
    Rule("subscriptions", "seats", "seats must be >= 0", "seats < 0"),
    _known_account("usage_events"),
    Rule("usage_events", "quantity", "quantity must be >= 0", "quantity < 0"),
    _known_account("onboarding"),
    _known_account("support_tickets"),
    Rule(
        "support_tickets",
        "resolved_at",
        "resolved_at must not be before created_at",
        "resolved_at < created_at",
    ),
    Rule("support_tickets", "csat", "csat must be between 1 and 5", "csat < 1 OR csat > 5"),
    _known_account("cs_activities"),
    _known_account("surveys"),
    Rule(
        "surveys",
        "score",
        "score must be 0-10 for nps and 1-5 for csat",
        "(lower(survey_type) = 'nps' AND (score < 0 OR score > 10))"
        " OR (lower(survey_type) = 'csat' AND (score < 1 OR score > 5))",
    ),
    _known_account("experiments"),
    _known_account("churn_reasons"),
]

TOUCH_TIERS = ("high", "low", "tech")
