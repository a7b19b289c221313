"""The merged parameters of a run: params/defaults.yml, params/<notebook>.yml and -p overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import ParameterError
from .paths import project_root

RUN_KEY = "run"


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
