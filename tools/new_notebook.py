"""Write a report notebook from a compact cell list (used to author notebooks/*.ipynb by script).

    python tools/new_notebook.py  # see NOTEBOOKS below; or import and call write()

Cells are ("md", text) / ("code", source) / ("params", source). Output has no outputs, the
csresearch kernel named, and the first code cell tagged ``parameters``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


def write(path: str | Path, cells: list[tuple[str, str]]) -> Path:
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "csresearch", "display_name": "Python (csresearch)", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source in cells:
        source = source.strip("\n")
        if kind == "md":
            nb.cells.append(new_markdown_cell(source))
        elif kind == "params":
            nb.cells.append(new_code_cell(source, metadata={"tags": ["parameters"]}))
        else:
            nb.cells.append(new_code_cell(source))
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    path = Path(path)
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    sys.exit("import this module and call write(path, cells)")
