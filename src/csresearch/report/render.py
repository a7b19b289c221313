"""Executed notebook -> a light, standalone HTML page for CS leadership.

nbconvert's ``basic`` template gives the cells' HTML with code, prompts and stderr hidden; the page
around it is ours: a title that says which report and which month, links back to the month's index
and to the same report a month earlier, a table of contents from the section headings, and a small
stylesheet (with a print layout). Nothing is loaded from another host: no JupyterLab CSS, no
require.js or MathJax from a CDN, so a page opens offline or behind a strict proxy.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

_STYLE = """
<style>
  :root { --ink: #1f2328; --muted: #5f6b76; --line: #d8dee4; --bad: #B42318; --good: #2f7d32; }
  body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, "Noto Sans", sans-serif; color: var(--ink);
         max-width: 1100px; margin: 0 auto; padding: 0 16px 48px; line-height: 1.45; font-size: 15px; }
  nav.csr-nav { display: flex; gap: 16px; font-size: 13px; padding: 10px 0; border-bottom: 1px solid var(--line); }
  nav.csr-nav a { color: #0b5cad; text-decoration: none; }
  .csr-toc { font-size: 13px; color: var(--muted); margin: 8px 0 16px; }
  .csr-toc a { color: var(--muted); margin-right: 12px; white-space: nowrap; }
  h1 { font-size: 26px; margin: 16px 0 4px; } h2 { font-size: 20px; margin-top: 32px; }
  h3 { font-size: 16px; } .anchor-link { display: none; }
  .prompt, .input_prompt, .output_prompt { display: none; }
  table { border-collapse: collapse; font-size: 12.5px; margin: 8px 0 16px; }
  th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
  th { background: #f6f8fa; font-weight: 600; }
  td:first-child, th:first-child { text-align: left; }
  caption { caption-side: top; text-align: left; font-weight: 600; padding: 4px 0; color: var(--muted); }
  img { max-width: 100%; height: auto; }
  .output_area pre, pre { white-space: pre-wrap; font-size: 12px; }
  .csr-error { border: 2px solid var(--bad); background: #fdf0f1; padding: 12px 16px; margin: 16px 0;
               border-radius: 6px; }
  @media print {
    nav.csr-nav, .csr-toc { display: none; } body { max-width: none; font-size: 10pt; }
    table { font-size: 8pt; page-break-inside: auto; } tr { page-break-inside: avoid; }
    img { page-break-inside: avoid; }
    @page { size: A4 landscape; margin: 12mm; }
  }
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


def _toc(body: str) -> str:
    """Links to the page's section headings (h2), in order."""
    found = re.findall(r'<h2 id="([^"]+)">(.*?)(?:<a class="anchor-link"[^>]*>.*?</a>)?</h2>', body)
    links = "".join(f'<a href="#{anchor}">{re.sub(r"<[^>]+>", "", text)}</a>' for anchor, text in found)
    return f'<div class="csr-toc">On this page: {links}</div>' if links else ""


def _nav(index_href: str | None, previous_href: str | None, previous_label: str | None) -> str:
    parts = []
    if index_href:
        parts.append(f'<a href="{html.escape(index_href)}">← All reports this month</a>')
    if previous_href:
        parts.append(f'<a href="{html.escape(previous_href)}">The same report, {html.escape(previous_label or "")}</a>')
    return f'<nav class="csr-nav">{"".join(parts)}</nav>' if parts else ""


_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\n]+)")


def shrink_images(body: str) -> str:
    """Every embedded PNG chart as a 256-colour palette PNG (charts have few colours): about a third of
    the bytes, no visible change. An image that would not get smaller is kept as it was."""
    import base64
    import io

    from PIL import Image

    def one(match: re.Match) -> str:
        raw = base64.b64decode(match.group(1))
        try:
            image = Image.open(io.BytesIO(raw)).convert("RGB")
            small = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            out = io.BytesIO()
            small.save(out, format="PNG", compress_level=9)
        except (OSError, ValueError):
            return match.group(0)
        data = out.getvalue()
        return "data:image/png;base64," + base64.b64encode(data if len(data) < len(raw) else raw).decode()

    return _PNG.sub(one, body)


def page(title: str, body: str, nav: str = "", banner: str = "", toc: bool = True) -> str:
    """A standalone page: our stylesheet, the navigation, a banner, the table of contents, the body."""
    contents = _toc(body) if toc else ""
    return (f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title>{_STYLE}</head><body>{nav}{banner}{contents}<main>{body}</main>"
            "</body></html>")


def render_html(ipynb: Path, out: Path, title: str, error: str | None = None, index_href: str | None = "index.html",
                previous_href: str | None = None, previous_label: str | None = None) -> Path:
    nb = _clean(nbformat.read(ipynb, as_version=4))
    exporter = HTMLExporter(template_name="basic")
    not_enough = bool(error) and str(error).startswith("NotEnoughData")
    exporter.exclude_input = not error or not_enough  # a failed report shows its code so the error has context
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = shrink_images(body)
    banner = ""
    if not_enough:
        reason = str(error).removeprefix("NotEnoughData: ")
        banner = (f'<div class="csr-error" style="border-color:#999;background:#f5f5f5"><b>Not enough data for this '
                  f'report.</b> {html.escape(reason)}</div>')
    elif error:
        banner = (f'<div class="csr-error"><b>This report failed.</b> {html.escape(error)}<br>'
                  "The cells that ran are shown below with their code; the traceback is at the failing cell. "
                  "Other reports of this run are unaffected.</div>")
    out.write_text(page(title, body, _nav(index_href, previous_href, previous_label), banner), encoding="utf-8")
    return out


def failure_page(title: str, error: str) -> str:
    """A page for a notebook whose process died before it could render anything."""
    banner = (f"<div class='csr-error'><b>This report failed.</b> {html.escape(error)}<br>"
              "Other reports of this run are unaffected.</div>")
    return page(title, "", _nav("index.html", None, None), banner, toc=False)
