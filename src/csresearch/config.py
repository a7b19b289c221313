"""Where the project lives, which month a report is about, and the merged parameters of a run."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import yaml

from .errors import ParameterError

RUN_KEY = "run"


def project_root(start: Path | None = None) -> Path:
    """The folder holding ``params/defaults.yml``: $CSRESEARCH_HOME, or the nearest parent of cwd."""
    if os.environ.get("CSRESEARCH_HOME"):
        return Path(os.environ["CSRESEARCH_HOME"]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "params" / "defaults.yml").exists():
            return folder
    return here


def resolve_month(month: str | pd.Period | None, today: dt.date | None = None) -> pd.Period:
    """The report month as a monthly Period; ``None`` means the last complete month before today."""
    if month is None or month == "":
        today = today or dt.date.today()
        return pd.Period(today, freq="M") - 1
    if isinstance(month, pd.Period):
        return month.asfreq("M")
    if not re.fullmatch(r"\d{4}-\d{2}", str(month)):
        raise ParameterError(f"month {month!r} is not a month like 2026-10")
    return pd.Period(str(month), freq="M")


def resolve_path(path: str | None, root: Path | None = None) -> str | None:
    """A data path relative to the project root (URLs and absolute paths pass through)."""
    if path is None or "://" in str(path) or Path(path).is_absolute():
        return path
    root = root or project_root()
    return str((root / path).resolve())


def read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ParameterError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: expected a mapping of parameter names to values")
    return data


def parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` from the command line; the value is read as YAML (numbers, lists, null...)."""
    if "=" not in text:
        raise ParameterError(f"parameter override {text!r} is not key=value")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value) if value.strip() else None


def defaults(root: Path | None = None) -> dict:
    root = root or project_root()
    return read_yaml(root / "params" / "defaults.yml")


def notebook_parameters(
    notebook: str,
    declared: Mapping[str, Any],
    overrides: Mapping[str, Any] | None = None,
    root: Path | None = None,
) -> dict:
    """Merge defaults.yml, <notebook>.yml and overrides into the parameters one notebook receives.

    ``declared`` are the names in the notebook's ``parameters`` cell. Shared defaults a notebook does
    not declare are not passed; a key in the notebook's own file or in the overrides that it does not
    declare is an error (a typo must not be silently ignored).
    """
    root = root or project_root()
    shared = {k: v for k, v in defaults(root).items() if k != RUN_KEY}
    own = read_yaml(root / "params" / f"{notebook}.yml")
    overrides = dict(overrides or {})
    unknown = sorted((set(own) | set(overrides)) - set(declared) - set(shared))
    if unknown:
        raise ParameterError(
            f"{notebook}: unknown parameter(s) {unknown}; the notebook declares {sorted(declared)}"
        )
    unknown_own = sorted(set(own) - set(declared))
    if unknown_own:
        raise ParameterError(f"params/{notebook}.yml: {unknown_own} not declared by the notebook")
    merged = {**shared, **own, **overrides}
    return {k: v for k, v in merged.items() if k in declared}
