"""One error tree for the whole package (after papermill's ``exceptions.py``).

Every error a user can cause derives from :class:`CsresearchError`; the CLI maps each family to an
exit code (2: the input or the parameters are wrong, and one sentence says how) and never shows a
traceback for them. Anything else is a bug and is allowed to surface as one.

:class:`NotEnoughData` is its own family on purpose: a section that cannot be computed on this data
says why in the report and the rest goes on, while a real bug (a ``ValueError`` from pandas) is
never turned into a quiet "skipped" note.
"""

from __future__ import annotations

from typing import Iterable, Sequence


class CsresearchError(Exception):
    """Base of every error this package raises on purpose."""

    exit_code = 2


class ParameterError(CsresearchError, ValueError):
    """A parameter file, an override or a settings value is wrong (unknown key, bad type or range)."""


class SourceError(CsresearchError):
    """The data source cannot be read (missing path, unknown scheme, credentials in the URL...)."""


class ContractError(CsresearchError):
    """The input breaks the data contract. ``violations`` lists every broken rule."""

    def __init__(self, violations: list):
        self.violations = violations
        lines = "\n".join(f"  - {v}" for v in violations)
        super().__init__(
            f"The data breaks {len(violations)} contract rule(s):\n{lines}\n"
            "See docs/data-contract.md. Row-level problems can be rejected and counted instead of "
            "stopping the run with reject_invalid_rows: true."
        )


class EngineError(CsresearchError):
    """The engine cannot run the query (not installed, not reachable, SQL it does not accept)."""


class HealthConfigError(ParameterError):
    """A health-score YAML is wrong. Names the file, the component, the field and the broken rule."""

    def __init__(self, file: str, component: str | None, field: str | None, rule: str):
        self.file, self.component, self.field, self.rule = file, component, field, rule
        where = f"component '{component}'" if component else "top level"
        super().__init__(f"{file}: {where}, field '{field or '-'}': {rule}")


class SettingsError(ParameterError):
    """A settings entry is malformed (an ``experiments:`` entry with an unknown key or outcome...)."""


class UnknownAccountError(ParameterError, KeyError):
    """An account id asked for in a review does not exist in the ``accounts`` table."""

    def __init__(self, missing: Iterable[str], known_examples: Sequence[str] = ()) -> None:
        self.missing = list(missing)
        hint = f" (ids look like {', '.join(known_examples)})" if known_examples else ""
        super().__init__(
            f"unknown account id(s) {', '.join(map(repr, self.missing))}: not in the accounts table{hint}"
        )

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class NotEnoughData(CsresearchError):
    """This data cannot support a computation (too little history, no events of a kind); the
    message is a sentence a report can print as the reason."""
