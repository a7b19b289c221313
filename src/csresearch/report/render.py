"""Executed notebook -> standalone HTML for CS leadership: code, prompts and stderr hidden."""

from __future__ import annotations

import html
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

_STYLE = """
<style>
  body { max-width: 1100px; margin: 0 auto; }
  .jp-Cell { padding: 2px 0; }
  .csr-error { border: 2px solid #D1495B; background: #fdf0f1; padding: 12px 16px; margin: 16px 0;
               border-radius: 6px; font-family: sans-serif; }
  table.dataframe, .jp-RenderedHTMLCommon table { font-size: 12px; }
</style>
"""


def _clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop what a reader should not see: stderr streams (warnings, progress bars)."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.get("outputs", [])
                        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return nb


def render_html(ipynb: Path, out: Path, title: str, error: str | None = None) -> Path:
    nb = _clean(nbformat.read(ipynb, as_version=4))
    exporter = HTMLExporter(template_name="lab")
    not_enough = bool(error) and str(error).startswith("NotEnoughData")
    exporter.exclude_input = not error or not_enough  # a failed report shows its code so the error has context
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    banner = ""
    if not_enough:
        reason = str(error).removeprefix("NotEnoughData: ")
        banner = (f'<div class="csr-error" style="border-color:#999;background:#f5f5f5"><b>Not enough data for this '
                  f'report.</b> {html.escape(reason)}</div>')
    elif error:
        banner = (f'<div class="csr-error"><b>This report failed.</b> {html.escape(error)}<br>'
                  "The cells that ran are shown below with their code; the traceback is at the failing cell. "
                  "Other reports of this run are unaffected.</div>")
    body = body.replace("</head>", _STYLE + "</head>", 1)
    body = body.replace('<main>', '<main>' + banner, 1) if "<main>" in body else body.replace("<body", banner + "<body", 1)
    out.write_text(body, encoding="utf-8")
    return out


def failure_page(title: str, error: str) -> str:
    """A page for a notebook whose process died before it could render anything."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{_STYLE}</head>"
            f"<body><main><h1>{html.escape(title)}</h1><div class='csr-error'><b>This report failed.</b> "
            f"{html.escape(error)}<br>Other reports of this run are unaffected.</div></main></body></html>")
