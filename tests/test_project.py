"""Project hygiene: environment.yml mirrors pyproject, notebooks are stored clean and parameterised,
parameter files only name parameters their notebooks declare."""

from __future__ import annotations

import json
import tomllib

import pytest
import yaml
from packaging.requirements import Requirement

from conftest import ROOT
from csresearch.errors import ParameterError
from csresearch.period import resolve_month
from csresearch.report.params import notebook_parameters, parse_override
from csresearch.report.run import available_notebooks, declared_parameters

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _requirements(specs):
    return {Requirement(s).name.lower(): str(Requirement(s).specifier) for s in specs}


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirements(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = _requirements([p for p in pip if not p.startswith("-e")])
    assert listed == wanted
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs_and_with_parameters(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert not any(c.get("outputs") or c.get("execution_count") for c in code), "strip outputs before committing"
    assert nb["metadata"]["kernelspec"]["name"] == "csresearch"
    assert "parameters" in code[0]["metadata"].get("tags", []), "the first code cell is the parameters cell"
    declared = declared_parameters(path)
    for name in ("data", "month", "output_dir"):
        assert name in declared


def test_every_run_notebook_exists_and_its_params_file_is_declared():
    settings = yaml.safe_load((ROOT / "params" / "defaults.yml").read_text())
    assert set(settings["run"]["notebooks"]) <= set(available_notebooks(ROOT)) | set(settings["run"]["notebooks"])
    for name in available_notebooks(ROOT):
        declared = declared_parameters(ROOT / "notebooks" / f"{name}.ipynb")
        notebook_parameters(name, declared, {}, ROOT)  # raises on an undeclared key


def test_unknown_parameter_is_an_error_not_ignored():
    declared = declared_parameters(ROOT / "notebooks" / "00_data_overview.ipynb")
    with pytest.raises(ParameterError, match="unknown parameter"):
        notebook_parameters("00_data_overview", declared, {"trend_monts": 12}, ROOT)
    merged = notebook_parameters("00_data_overview", declared, {"trend_months": 12}, ROOT)
    assert merged["trend_months"] == 12
    assert "annualisation" not in merged, "shared defaults go only to notebooks that declare them"


def test_overrides_parse_as_yaml_and_months_resolve():
    assert parse_override("account_ids=[A1, A2]") == ("account_ids", ["A1", "A2"])
    assert parse_override("horizon_days=90") == ("horizon_days", 90)
    with pytest.raises(ParameterError):
        parse_override("nonsense")
    import datetime as dt

    assert str(resolve_month(None, today=dt.date(2026, 11, 23))) == "2026-10"
    assert str(resolve_month(None, today=dt.date(2027, 1, 2))) == "2026-12"
    with pytest.raises(ParameterError):
        resolve_month("October")


def test_user_docs_name_every_contract_table_and_column():
    from csresearch.data.contract import TABLES

    doc = (ROOT / "docs" / "data-contract.md").read_text()
    for table in TABLES.values():
        assert f"### {table.name} " in doc
        for column in table.columns:
            assert f"| {column.name} |" in doc, f"{table.name}.{column.name} undocumented"
