"""How is a broken contract rule reported? :class:`Violation`: where (table, file, column), what
(the rule), how many rows and a few examples; plus the two helpers every check uses to put a name
(``_quote``) or a text (``_sql_str``) into its SQL."""

from __future__ import annotations

from dataclasses import dataclass, field

EXAMPLES_SHOWN = 3


@dataclass
class Violation:
    """One broken rule: where (table, file, column), what (rule), how many rows and a few examples.
    ``rows`` is 0 for a rule about the table or file as a whole (a missing column, a file that is not
    UTF-8 text), and the message then leaves the row count out."""

    table: str
    column: str
    rule: str
    rows: int
    examples: list[dict] = field(default_factory=list)
    file: str = ""  # the source file, for rules about a file (encoding, delimiter, header, readability)

    def __str__(self) -> str:
        ex = "; ".join(", ".join(f"{k}={v}" for k, v in e.items()) for e in self.examples)
        where = [f"table '{self.table}'"]
        if self.file:
            where.append(f"file '{self.file}'")
        if self.column:
            where.append(f"column '{self.column}'")
        elif not self.file:
            where.append("table")
        count = f" — {self.rows:,} row(s) break it" if self.rows else ""
        return f"{', '.join(where)}: {self.rule}{count}" + (f" (e.g. {ex})" if ex else "")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
