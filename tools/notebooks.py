"""Keep each report notebook's ``parameters`` cell equal to what its settings model writes.

    python tools/notebooks.py sync     # rewrite the parameters cells from the settings models
    python tools/notebooks.py check    # exit 1 naming every notebook whose cell is out of date

The settings model (``csresearch.analyses.<name>.settings.Settings``) is the single source of
defaults; the cell is derived from it. Notebooks are stored without outputs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from csresearch.analyses import REPORTS, settings_for
from csresearch.notebook.parameters import cell_source

ROOT = Path(__file__).resolve().parents[1]


def parameters_cell(nb: nbformat.NotebookNode):
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            return cell
    raise SystemExit("no cell tagged 'parameters'")


def out_of_date(root: Path = ROOT) -> list[str]:
    stale = []
    for name in REPORTS:
        settings = settings_for(name)
        path = root / "notebooks" / f"{name}.ipynb"
        if settings is None or not path.exists():
            continue
        if parameters_cell(nbformat.read(path, as_version=4)).source != cell_source(settings):
            stale.append(name)
    return stale


def sync(root: Path = ROOT) -> list[str]:
    written = []
    for name in out_of_date(root):
        path = root / "notebooks" / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        parameters_cell(nb).source = cell_source(settings_for(name))
        nbformat.write(nb, path)
        written.append(name)
    return written


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "sync":
        print("\n".join(f"wrote {n}" for n in sync()) or "every parameters cell is up to date")
    else:
        stale = out_of_date()
        print("\n".join(f"out of date: {n} (python tools/notebooks.py sync)" for n in stale) or "up to date")
        sys.exit(1 if stale else 0)
