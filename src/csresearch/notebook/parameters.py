"""The ``parameters`` cell of a report notebook, generated from its analysis's settings model.

The cell papermill overrides is text in a notebook; its names and defaults must be the settings
model's, so it is written from the model (``tools/notebooks.py sync``) and a test checks that every
notebook's cell is what the model would write.
"""

from __future__ import annotations

import ast
import pprint
import textwrap
from typing import Any

from ..analyses.base import ReportSettings

HEADER = ("# Parameters (papermill overrides these; the defaults run on the demo world).\n"
          "# Generated from {module}.Settings: edit the defaults there, then run\n"
          "# `python tools/notebooks.py sync`.")


def _literal(value: Any) -> str:
    text = pprint.pformat(value, width=100, sort_dicts=False)
    ast.literal_eval(text)  # what the notebook reads back must be the same value
    return text


def cell_source(settings_cls: type[ReportSettings]) -> str:
    """The parameters cell: run-wide settings first, then the analysis's own, each with its comment."""
    lines = [HEADER.format(module=settings_cls.__module__)]
    for group, keys in (("run", settings_cls.run_keys()), ("this report", settings_cls.own_keys())):
        lines.append(f"# -- {group}")
        for key in keys:
            info = settings_cls.model_fields[key]
            if info.description:
                lines += textwrap.wrap(info.description, 100, initial_indent="# ", subsequent_indent="# ")
            lines.append(f"{key} = {_literal(info.get_default(call_default_factory=True))}")
    return "\n".join(lines)


def declared(source: str) -> dict[str, Any]:
    """Names assigned in a parameters cell and their literal values."""
    values = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    values[target.id] = ast.literal_eval(node.value)
    return values
