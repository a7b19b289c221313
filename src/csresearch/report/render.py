"""Executed notebook -> a light, standalone HTML page for CS leadership.

nbconvert's ``basic`` template gives the cells' HTML with code, prompts and stderr hidden; the page
around it is ours: a title that says which report and which month, links back to the month's index
and to the same report a month earlier, a table of contents from the section headings, and a small
stylesheet (with a print layout). Nothing is loaded from another host: no JupyterLab CSS, no
require.js or MathJax from a CDN, so a page opens offline or behind a strict proxy.

A report's one-line data status goes to the top; its conventions box and data-quality section go to a
collapsed ``<details>`` at the end (the session marks them; see :func:`_take_apart`). Long tables
(``class="csr-interactive"``, see :func:`csresearch.notebook.display.table_html`) become sortable,
filterable and searchable with itables' offline DataTables bundle, embedded once per page, gzipped
(``DecompressionStream``) so a page stays light; the script reads the escaped cells from the DOM, so no
data is ever written into a script. Without JavaScript the same tables show, static.

Every word of the page around the report (the links, the table of contents, the collapsed section's
title, the failure banners, the tables' controls) comes from the catalog in the run's language
(:mod:`csresearch.i18n`); ``<html lang>`` is that language. A worker renders a page in its own process,
so :func:`render_html` takes the language from the executed notebook's parameters (papermill records
them) unless it is given one.
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from ..i18n import SOURCE_LANGUAGE, _, check_language, get_language, pgettext, using
from . import webfont

_STYLE = """
<style>
  :root { --ink: #1f2328; --muted: #5f6b76; --line: #d8dee4; --bad: #B42318; --good: #2f7d32; }
  body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, "Noto Sans", sans-serif; color: var(--ink);
         max-width: 1100px; margin: 0 auto; padding: 0 16px 48px; line-height: 1.45; font-size: 15px; }
  nav.csr-nav { display: flex; gap: 16px; font-size: 13px; padding: 10px 0; border-bottom: 1px solid var(--line); }
  nav.csr-nav a { color: #0b5cad; text-decoration: none; }
  .csr-toc { font-size: 13px; color: var(--muted); margin: 8px 0 16px; display: flex; flex-wrap: wrap;
             gap: 2px 14px; }
  .csr-toc a { white-space: nowrap; }
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
  .csr-status { font-size: 13px; color: var(--muted); margin: 8px 0 0; }
  .csr-status a, .csr-toc a { color: #0b5cad; }
  details.csr-appendix { margin: 40px 0 0; border-top: 1px solid var(--line); padding-top: 8px; }
  details.csr-appendix > summary { cursor: pointer; font-weight: 600; font-size: 17px; padding: 6px 0; }
  table.dataTable { margin: 8px 0 16px !important; } table.dataTable caption { caption-side: top; }
  div.dt-container { font-size: 12.5px; margin-bottom: 16px; }
  div.dt-layout-table { overflow-x: auto; }  /* a wide call list scrolls sideways, the page does not */
  table.dataTable td { min-width: 4.5em; }  /* text wide enough that a reason is a few lines, not twenty */
  table.dataTable td:not(.dt-type-numeric):not(.dt-type-date) { min-width: 9em; max-width: 28em; }
  /* the tables' controls in the page's fonts (form controls do not inherit them): a Japanese menu or
     filter word is drawn with the page's Japanese fallback, not as boxes */
  .dt-container button, .dt-container select, .dt-container input,
  .dtcc-dropdown button, .dtcc-dropdown select, .dtcc-dropdown input { font-family: inherit; }
  /* a Japanese header breaks between words (at punctuation), not between any two characters */
  html:lang(ja) table.dataTable thead th { word-break: keep-all; }
  @media print {
    nav.csr-nav, .csr-toc, div.dt-layout-row:not(.dt-layout-table), .dt-column-header .dt-column-control
      { display: none; }
    body { max-width: none; font-size: 10pt; }
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


_H2 = re.compile(r"<h2(\s[^>]*)?>(.*?)</h2>", re.S)


def _anchor_headings(body: str) -> str:
    """Every section heading (h2) with an ``id``: the headings a notebook's code writes (``display.md("##
    ...")``) have none, and the table of contents would miss them. Ids are made from the words, unique."""
    taken = set(re.findall(r'\sid="([^"]+)"', body))

    def one(match: re.Match) -> str:
        attrs = match.group(1) or ""
        if re.search(r'\sid="', attrs):
            return match.group(0)
        words = html.unescape(re.sub(r"<[^>]+>", "", match.group(2))).strip()
        slug = re.sub(r"[^\w]+", "-", words, flags=re.U).strip("-").lower()[:60] or "section"
        anchor, n = slug, 2
        while anchor in taken:
            anchor, n = f"{slug}-{n}", n + 1
        taken.add(anchor)
        return f'<h2{attrs} id="{html.escape(anchor)}">{match.group(2)}</h2>'

    return _H2.sub(one, body)


def _toc(body: str, appendix: bool = False) -> str:
    """Links to the page's section headings (h2), in order, and to the collapsed section at the end."""
    links = ["<span>" + html.escape(_("On this page:")) + "</span>"]
    for match in _H2.finditer(body):
        anchor = re.search(r'\sid="([^"]+)"', match.group(1) or "")
        text = re.sub(r'<a class="anchor-link"[^>]*>.*?</a>', "", match.group(2))
        text = re.sub(r"<[^>]+>", "", text).strip()
        if anchor and text:
            links.append(f'<a href="#{anchor.group(1)}">{text}</a>')
    if appendix:
        links.append(f'<a href="#csr-appendix">{html.escape(_appendix_title())}</a>')
    return f'<div class="csr-toc">{"".join(links)}</div>' if len(links) > 1 else ""


def _appendix_title() -> str:
    return _("Conventions and data quality")


def _nav(index_href: str | None, previous_href: str | None, previous_label: str | None) -> str:
    parts = []
    if index_href:
        back = _("← All reports this month")
        parts.append(f'<a href="{html.escape(index_href)}">{html.escape(back)}</a>')
    if previous_href:
        # TRANSLATORS: link to this report a month earlier; {month} is that month ("October 2026")
        same = _("The same report, {month}").format(month=previous_label or "")
        parts.append(f'<a href="{html.escape(previous_href)}">{html.escape(same)}</a>')
    return f'<nav class="csr-nav">{"".join(parts)}</nav>' if parts else ""


_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\n]+)")


# nbconvert's alt text for an image output, in English whatever the run's language
NBCONVERT_ALT = 'alt="No description has been provided for this image"'


def shrink_images(body: str) -> str:
    """Every embedded high-DPI PNG chart reduced to a 256-colour palette (charts have few colours) and
    stored as lossless WebP: the palette image's exact pixels (still 2x, sharp on a laptop's screen) in
    about a quarter of the original PNG's bytes (demo month: 14 charts of 04, 520 KB of palette PNG ->
    355 KB of WebP, and faster to encode than PNG at level 9). Every current browser shows WebP; where
    Pillow has no WebP encoder the palette PNG is kept, and an image that would not get smaller stays."""
    import io

    from PIL import Image, features

    webp = features.check("webp")

    def one(match: re.Match) -> str:
        raw = base64.b64decode(match.group(1))
        try:
            image = Image.open(io.BytesIO(raw)).convert("RGB")
            small = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
            out = io.BytesIO()
            if webp:  # lossless; method 2 / quality 25: within 2% of the smallest, a tenth of the time
                small.save(out, format="WEBP", lossless=True, method=2, quality=25)
                kind = "webp"
            else:
                small.save(out, format="PNG", compress_level=9)
                kind = "png"
        except (OSError, ValueError):
            return match.group(0)
        data = out.getvalue()
        if len(data) >= len(raw):
            return match.group(0)
        return f"data:image/{kind};base64," + base64.b64encode(data).decode()

    return _PNG.sub(one, body)


# ---- interactive tables: itables' DataTables bundle, offline, once per page --------------------------

@functools.lru_cache(maxsize=1)
def _dt_bundle() -> tuple[str, str]:
    """itables' offline DataTables bundle (JavaScript, CSS), each gzipped and base64-encoded: about 256 KB
    instead of the 968 KB of itables' own base64 init cell (the page inflates it with DecompressionStream)."""
    from itables import options

    js = Path(options.dt_bundle)
    css = js.with_suffix(".css")
    return (base64.b64encode(gzip.compress(js.read_bytes(), 9, mtime=0)).decode(),
            base64.b64encode(gzip.compress(css.read_bytes(), 9, mtime=0)).decode())


def _dt_options() -> dict:
    """The options every interactive table gets: itables' default classes and layout, with no initial
    re-ordering (a report's own order is the one it means), sorting by a click on a header, one menu per
    column with its sort and a filter (DataTables' ColumnControl), and text allowed to wrap (reasons are
    sentences)."""
    from itables import options

    classes = options.classes.split() if isinstance(options.classes, str) else list(options.classes)
    made = {"classes": [c for c in classes if c != "nowrap"], "layout": dict(options.layout), "order": [],
            "pageLength": 20, "lengthMenu": [20, 50, 100, {"label": _all_label(), "value": -1}], "autoWidth": False,
            "columnControl": [["orderAsc", "orderDesc", "spacer", "search"]],
            "style": {"table-layout": "auto", "width": "auto", "margin": "0", "caption-side": "top"}}
    if get_language() != SOURCE_LANGUAGE:  # English: DataTables' own words, the page as it always was
        made["language"] = dt_language()
    return made


def _all_label() -> str:
    # TRANSLATORS: the choice "show every row" in a table's rows-per-page menu
    return pgettext("table controls", "All")


def dt_language() -> dict:
    """DataTables' (and its ColumnControl's) ``language`` option in the run's language, from the catalog:
    the search box, the rows-per-page menu, the "Showing 1 to 20 of 57" line, the empty and no-match
    messages, the screen-reader labels and the column menu's sort and filter words. The catalog's
    ``{start}``-style fields become DataTables' ``_START_`` tokens after translation (the catalog check
    keeps them), so nothing is fetched from a CDN. (The context is written out in every call: the
    extractor reads only a literal context.)"""
    equal = pgettext("table controls", "Equals")
    not_equal = pgettext("table controls", "Does not equal")
    empty = pgettext("table controls", "Empty")
    not_empty = pgettext("table controls", "Not empty")
    clear_filter = pgettext("table controls", "Clear filter")
    return {
        "search": pgettext("table controls", "Search:"),
        # TRANSLATORS: {menu} is the menu of 20 / 50 / 100 / All
        "lengthMenu": pgettext("table controls", "{menu} rows per page").format(menu="_MENU_"),
        "lengthLabels": {"-1": _all_label()},
        "info": pgettext("table controls", "Showing {start} to {end} of {total} rows").format(
            start="_START_", end="_END_", total="_TOTAL_"),
        "infoEmpty": pgettext("table controls", "No rows to show"),
        "infoFiltered": pgettext("table controls", "(filtered from {max} rows)").format(max="_MAX_"),
        "zeroRecords": pgettext("table controls", "No matching rows"),
        "emptyTable": pgettext("table controls", "This table has no rows"),
        "loadingRecords": pgettext("table controls", "Loading..."),
        "aria": {  # read out by screen readers after a column's name
            "orderable": pgettext("table controls", ": activate to sort"),
            "orderableReverse": pgettext("table controls", ": activate to reverse the sort"),
            "orderableRemove": pgettext("table controls", ": activate to remove the sort"),
            "paginate": {"first": pgettext("table controls", "First page"),
                         "last": pgettext("table controls", "Last page"),
                         "next": pgettext("table controls", "Next page"),
                         "previous": pgettext("table controls", "Previous page")}},
        "columnControl": {
            "orderAsc": pgettext("table controls", "Sort ascending"),
            "orderDesc": pgettext("table controls", "Sort descending"),
            "orderClear": pgettext("table controls", "Clear sort"),
            "searchClear": clear_filter,
            "dropdown": pgettext("table controls", "Column menu"),
            "buttons": {"searchClear": clear_filter},
            "search": {
                "text": {"contains": pgettext("table controls", "Contains"),
                         "notContains": pgettext("table controls", "Does not contain"),
                         "equal": equal, "notEqual": not_equal,
                         "starts": pgettext("table controls", "Starts with"),
                         "ends": pgettext("table controls", "Ends with"), "empty": empty, "notEmpty": not_empty},
                "number": {"equal": equal, "notEqual": not_equal,
                           "greater": pgettext("table controls", "Greater than"),
                           "greaterOrEqual": pgettext("table controls", "Greater than or equal to"),
                           "less": pgettext("table controls", "Less than"),
                           "lessOrEqual": pgettext("table controls", "Less than or equal to"),
                           "empty": empty, "notEmpty": not_empty},
                "datetime": {"equal": equal, "notEqual": not_equal,
                             "greater": pgettext("table controls", "After"),
                             "less": pgettext("table controls", "Before"), "empty": empty, "notEmpty": not_empty},
            },
        },
    }


_LOADER = """<script type="module">
const inflate = async (b64) => {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  return await new Response(stream).text();
};
const tables = document.querySelectorAll("table.csr-interactive");
if (tables.length && "DecompressionStream" in window) {
  const [js, css] = await Promise.all([inflate(__JS__), inflate(__CSS__)]);
  const style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);
  const url = URL.createObjectURL(new Blob([js], { type: "text/javascript" }));
  const bundle = await import(url);
  URL.revokeObjectURL(url);
  if (bundle.default && bundle.default.ext) bundle.default.ext.errMode = "throw";
  const made = [];
  for (const table of tables) {
    const options = structuredClone(__OPTIONS__);
    if (table.tBodies[0].rows.length <= options.pageLength) {  // one page: no paging controls
      options.paging = false;
      options.layout = { ...options.layout, topStart: null, bottomStart: null, bottomEnd: null };
    }
    made.push(new bundle.ITable(table, options));
  }
  window.addEventListener("beforeprint", () => made.forEach((t) => t.dt.page.len(-1).draw()));
  document.documentElement.dataset.csrTables = String(made.length);
}
</script>"""

_OPEN_APPENDIX = """<script>
const csrOpen = () => { if (location.hash === "#csr-appendix") document.getElementById("csr-appendix").open = true; };
window.addEventListener("hashchange", csrOpen); csrOpen();
</script>"""


def _scripts(has_tables: bool, has_appendix: bool) -> str:
    out = _OPEN_APPENDIX if has_appendix else ""
    if has_tables:
        js, css = _dt_bundle()
        out += (_LOADER.replace("__JS__", json.dumps(js)).replace("__CSS__", json.dumps(css))
                .replace("__OPTIONS__", json.dumps(_dt_options())))
    return out


# ---- where each part of a report goes -------------------------------------------------------------

def _html_of(output: dict) -> str:
    data = output.get("data", {}).get("text/html", "")
    return "".join(data) if isinstance(data, list) else str(data)


def _heading_only(output: dict) -> bool:
    """An output that is a section heading (and its paragraph), as ``nb.section`` writes it."""
    return _html_of(output).lstrip().startswith(("<h1", "<h2", "<h3"))


def _take_apart(nb: nbformat.NotebookNode) -> tuple[str, list]:
    """Take out of ``nb`` the data status line (for the top of the page) and what the session marked
    ``data-csr-appendix``: the conventions box (the output alone) and the data-quality section (its cell,
    with the heading cell just before it). Returns ``(status, appendix cells)``; ``nb`` keeps the rest."""
    status = ""
    appendix: list = []
    moved: set[int] = set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        kept: list = []
        for output in cell.get("outputs", []):
            markup = _html_of(output).lstrip()
            if markup.startswith('<p class="csr-status"'):
                status = status or markup
                continue
            if markup.startswith("<div") and "data-csr-appendix" in markup.split(">", 1)[0]:
                if 'class="csr-quality"' in markup.split(">", 1)[0] and all(_heading_only(o) for o in kept):
                    # the whole cell is the data-quality section: it moves, with its heading cell before it
                    before = nb.cells[i - 1] if i > 0 else None
                    if before is not None and before.cell_type == "markdown" and before.source.lstrip().startswith("#"):
                        moved.add(i - 1)
                    moved.add(i)
                    kept.append(output)
                    continue
                appendix.append(nbformat.v4.new_code_cell(outputs=[output]))
                continue
            kept.append(output)
        cell.outputs = kept
    quality = [nb.cells[i] for i in sorted(moved)]
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in moved]
    return status, quality + appendix


def page(title: str, body: str, nav: str = "", banner: str = "", toc: bool = True, status: str = "",
         appendix: str = "") -> str:
    """A standalone page: our stylesheet, the navigation, a banner, the data status line, the table of
    contents, the body, the collapsed conventions and data quality, and the page's scripts (only what
    it uses)."""
    body = _anchor_headings(body)
    contents = _toc(body, bool(appendix)) if toc else ""
    end = (f'<details class="csr-appendix" id="csr-appendix"><summary>{html.escape(_appendix_title())}</summary>'
           f"{appendix}</details>") if appendix else ""
    scripts = _scripts('class="csr-interactive"' in body + appendix, bool(appendix))
    return webfont.embed(f"<!doctype html><html lang=\"{html.escape(get_language())}\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title>{_STYLE}</head><body>{nav}{banner}{status}{contents}"
            f"<main>{body}{end}</main>{scripts}</body></html>")


def _notebook_language(nb: nbformat.NotebookNode) -> str | None:
    """The ``language`` the notebook ran with (papermill records the parameters it injected)."""
    language = nb.metadata.get("papermill", {}).get("parameters", {}).get("language")
    return str(language) if language else None


def render_html(ipynb: Path, out: Path, title: str, error: str | None = None, index_href: str | None = "index.html",
                previous_href: str | None = None, previous_label: str | None = None,
                language: str | None = None) -> Path:
    """The report's page from its executed notebook, in ``language`` (None: the language the notebook ran
    with, else the process's)."""
    nb = _clean(nbformat.read(ipynb, as_version=4))
    language = language or _notebook_language(nb) or get_language()
    try:
        check_language(language)
    except ValueError:  # a notebook run by hand with a language this install has no catalog for
        language = get_language()
    with using(language):
        out.write_text(_report_page(nb, title, error, index_href, previous_href, previous_label), encoding="utf-8")
    return out


def _report_page(nb: nbformat.NotebookNode, title: str, error: str | None, index_href: str | None,
                 previous_href: str | None, previous_label: str | None) -> str:
    exporter = HTMLExporter(template_name="basic")
    not_enough = bool(error) and str(error).startswith("NotEnoughData")
    exporter.exclude_input = not error or not_enough  # a failed report shows its code so the error has context
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    status, moved = _take_apart(nb) if not error or not_enough else ("", [])
    body, _resources = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    chart = html.escape(_("Chart"))
    body = shrink_images(body).replace(NBCONVERT_ALT, 'alt="' + chart + '"')
    appendix = ""
    if moved:
        rest = nbformat.v4.new_notebook(cells=moved, metadata=nb.metadata)
        appendix, _resources = exporter.from_notebook_node(rest, resources={"metadata": {"name": title}})
    banner = ""
    if not_enough:
        reason = str(error).removeprefix("NotEnoughData: ")
        said = _("Not enough data for this report.")
        banner = (f'<div class="csr-error" style="border-color:#999;background:#f5f5f5">'
                  f'<b>{html.escape(said)}</b> {html.escape(reason)}</div>')
    elif error:
        failed = _("This report failed.")
        banner = (f'<div class="csr-error"><b>{html.escape(failed)}</b> {html.escape(error)}<br>'
                  + html.escape(_("The cells that ran are shown below with their code; the traceback is at the "
                                  "failing cell. Other reports of this run are unaffected.")) + "</div>")
    return page(title, body, _nav(index_href, previous_href, previous_label), banner, status=status,
                appendix=appendix)


def failure_page(title: str, error: str) -> str:
    """A page for a notebook whose process died before it could render anything."""
    failed = _("This report failed.")
    banner = (f"<div class='csr-error'><b>{html.escape(failed)}</b> {html.escape(error)}<br>"
              + html.escape(_("Other reports of this run are unaffected.")) + "</div>")
    return page(title, "", _nav("index.html", None, None), banner, toc=False)
