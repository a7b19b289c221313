"""Publishing a run: what replaces what, so that a failed or one-off run never destroys a good report.

- A monthly run writes everything into a staging folder and swaps it in for ``reports/<month>/``
  by two renames once every notebook has had its chance.
- A notebook that failed keeps the month's previous good output of that notebook (page and tables),
  marked *stale* on the index, with the failure page beside it as ``<notebook>.failed.html``. A
  month with no earlier good output gets the failure page.
- An ad-hoc run (chosen accounts, or overrides that change what a report is about) publishes to its
  own folder under the month (``reviews/<accounts>/`` or ``adhoc/<overrides>/``), never over the
  monthly report; the month's index lists it.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any, Mapping

from ..errors import CsresearchError

ADHOC_FOLDERS = ("reviews", "adhoc")


class PublishError(CsresearchError):
    """The reports folder cannot be written (read-only, full disk, permissions)."""


def adhoc_folder(overrides: Mapping[str, Any], run_wide: set[str]) -> str | None:
    """Where an ad-hoc run publishes under the month, or None for the monthly report itself.

    ``account_ids`` makes a review (``reviews/A00012-A00013``); any other override of an analysis
    setting makes an ad-hoc run (``adhoc/<key>-<value>...``, with a short hash when long). Run-wide
    keys (data, engine, month...) do not: they say where the month's data is, not what it is about.
    """
    about = {k: v for k, v in overrides.items() if k not in run_wide}
    if not about:
        return None
    if set(about) == {"account_ids"}:
        ids = about["account_ids"]
        ids = ids.split(",") if isinstance(ids, str) else list(ids or [])
        return "reviews/" + _slug("-".join(str(i).strip() for i in ids if str(i).strip()) or "none")
    text = "_".join(f"{k}-{v}" for k, v in sorted(about.items()))
    return "adhoc/" + _slug(text)


def _slug(text: str, limit: int = 60) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.") or "run"
    if len(slug) > limit:
        slug = slug[:limit].rstrip("-.") + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]
    return slug


def previous_entries(final: Path) -> dict[str, dict]:
    """The notebooks of the month's published manifest, by name ({} when none)."""
    path = final / "manifest.json"
    if not path.exists():
        return {}
    try:
        return {n["notebook"]: n for n in json.loads(path.read_text()).get("notebooks", [])}
    except (OSError, ValueError, KeyError):
        return {}


def keep_last_good(staging: Path, final: Path, name: str, entry: dict, previous: Mapping[str, dict]) -> dict:
    """For a failed notebook: put the month's previous good output back into ``staging`` and keep
    the failure page beside it. Returns the manifest entry (``stale`` when an earlier output was
    kept, ``failed`` when there was none)."""
    before = previous.get(name)
    good = before is not None and before.get("status") in ("ok", "stale") and (final / f"{name}.html").exists()
    if not good:
        return entry
    failed_page = f"{name}.failed.html"
    if (staging / f"{name}.html").exists():
        (staging / f"{name}.html").replace(staging / failed_page)
    shutil.copy2(final / f"{name}.html", staging / f"{name}.html")
    if (staging / name).exists():
        shutil.rmtree(staging / name)
    if (final / name).exists():
        shutil.copytree(final / name, staging / name)
    kept = dict(before or {})
    return {**entry, "status": "stale", "html": f"{name}.html", "failed_html": failed_page,
            "summary": kept.get("summary") or {}, "kept_from": kept.get("generated_at") or kept.get("kept_from")}


def swap_in(staging: Path, final: Path) -> None:
    """Replace ``final`` with ``staging`` by two renames; the old folder is removed afterwards.
    Ad-hoc folders published under the month are carried over into the new month folder."""
    final.parent.mkdir(parents=True, exist_ok=True)
    for folder in ADHOC_FOLDERS:
        if (final / folder).is_dir() and not (staging / folder).exists():
            shutil.copytree(final / folder, staging / folder)
    stamp = f"{int(time.time() * 1000)}-{id(staging) % 10000}"
    old = final.with_name(f".old-{final.name}-{stamp}")
    if final.exists():
        final.rename(old)
    staging.rename(final)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def adhoc_runs(month_folder: Path) -> list[dict]:
    """Ad-hoc runs published under a month folder, newest first, for the index."""
    found = []
    for kind in ADHOC_FOLDERS:
        for manifest in sorted((month_folder / kind).glob("*/manifest.json")):
            try:
                data = json.loads(manifest.read_text())
            except (OSError, ValueError):
                continue
            found.append({"path": f"{kind}/{manifest.parent.name}", "kind": kind,
                          "generated_at": data.get("generated_at", ""), "ok": data.get("ok", False),
                          "parameters": {k: v for k, v in (data.get("parameters") or {}).items()
                                         if k not in ("data", "month")}})
    return sorted(found, key=lambda r: r["generated_at"], reverse=True)
