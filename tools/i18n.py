"""The message catalogs: extract the marked strings, merge them into each language, check them.

    python tools/i18n.py extract              # every _() / ngettext() / N_() in src/ and the notebooks -> locale/csresearch.pot
    python tools/i18n.py update               # merge the template into every catalog (new strings empty, gone ones dropped)
    python tools/i18n.py update --part churn_drivers --only src/csresearch/analyses/churn_drivers
                                              # new strings of those paths go to locale/<lang>/parts/churn_drivers.po
    python tools/i18n.py fold                 # merge every parts/*.po into its catalog and delete the parts
    python tools/i18n.py check                # exit 1 on a string missing, empty or fuzzy in any catalog,
                                              # or a translation whose {placeholders} differ from its msgid's
    python tools/i18n.py init fr              # a new language: locale/fr/LC_MESSAGES/csresearch.po

``update`` and ``fold`` hold ``/tmp/catalog.lock`` (``$CSRESEARCH_CATALOG_LOCK``) while they read, merge and
write; a script or editor that rewrites a catalog takes the same lock (``flock /tmp/catalog.lock ...``).

``make lint`` runs ``check``. Parts exist so that several people can translate different areas at the
same time without rewriting one file under each other: the run reads a catalog and its parts as one
(:func:`csresearch.i18n.read_catalog`).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "csresearch"
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "src"))

from csresearch.i18n import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE, catalog_files, placeholders, read_catalog  # noqa: E402

TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"
WIDTH = 100
# the lock every rewrite of a catalog takes (read, merge, write), shared with `flock /tmp/catalog.lock ...`
LOCK = os.environ.get("CSRESEARCH_CATALOG_LOCK", "/tmp/catalog.lock")


@contextlib.contextmanager
def locked():
    """Hold the catalog lock: two people updating at once never write over each other's entries."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock; use parts there
        yield
        return
    with open(LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def template(only: list[Path] | None = None) -> Catalog:
    """Every marked string of the package (and the notebooks' code cells), with where it is used."""
    pot = Catalog(project="csresearch", domain=DOMAIN, fuzzy=False)
    roots = only or [SRC]
    for root in roots:
        root = root.resolve()
        if root.is_file():
            found = ((root.name, *m) for m in _extract_file(root))
            base = root.parent
        else:
            found = extract_from_dir(str(root), method_map=[("**.py", "python")], keywords=DEFAULT_KEYWORDS,
                                     comment_tags=("TRANSLATORS:",), strip_comment_tags=True)
            base = root
        for filename, lineno, message, comments, context in found:
            pot.add(message, locations=[(_relative(base / filename), lineno)], auto_comments=comments,
                    context=context)
    if only is None:
        import nbformat

        for path in sorted(NOTEBOOKS.glob("*.ipynb")):
            code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
            for lineno, message, comments, context in extract("python", io.BytesIO(code.encode()),
                                                              keywords=DEFAULT_KEYWORDS):
                pot.add(message, locations=[(_relative(path), lineno)], auto_comments=comments, context=context)
    return pot


def _extract_file(path: Path):
    with path.open("rb") as fh:
        yield from extract("python", fh, keywords=DEFAULT_KEYWORDS, comment_tags=("TRANSLATORS:",),
                           strip_comment_tags=True)


def languages() -> list[str]:
    return sorted(p.name for p in LOCALE_DIR.iterdir() if (p / "LC_MESSAGES" / f"{DOMAIN}.po").exists())


def _read(path: Path, language: str) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=language, domain=DOMAIN)


def _write(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=WIDTH, sort_output=False, ignore_obsolete=True, include_previous=False)
    path.write_bytes(buffer.getvalue())


def _key(message) -> tuple:
    return (message.id if isinstance(message.id, str) else message.id[0], message.context)


def extract_command() -> int:
    pot = template()
    _write(pot, TEMPLATE)
    print(f"{len(pot)} strings -> {_relative(TEMPLATE)}")
    return 0


def update_command(part: str | None, only: list[Path] | None) -> int:
    pot = template(only) if part and only else template()
    if not (part and only):
        _write(pot, TEMPLATE)
    for language in languages():
        main_path = catalog_files(language)[0]
        if part is None:
            catalog = _read(main_path, language)
            in_parts = {_key(m) for p in catalog_files(language)[1:] for m in _read(p, language) if m.id}
            wanted = Catalog(domain=DOMAIN, locale=language)
            for message in pot:
                if message.id and _key(message) not in in_parts:
                    wanted[message.id] = message
            before = {_key(m) for m in catalog if m.id}
            catalog.update(wanted, no_fuzzy_matching=True)
            added = {_key(m) for m in catalog if m.id} - before
            _write(catalog, main_path)
            print(f"{language}: {len(catalog)} strings in {_relative(main_path)} ({len(added)} new to translate, "
                  f"{len(catalog.obsolete)} no longer used dropped)")
        else:
            path = LOCALE_DIR / language / "parts" / f"{part}.po"
            catalog = _read(path, language) if path.exists() else Catalog(domain=DOMAIN, locale=language)
            have = {_key(m) for p in catalog_files(language) if p != path for m in _read(p, language)
                    if m.id and all(s for s in ((m.string,) if isinstance(m.string, str) else m.string))}
            ours = pot
            wanted = Catalog(domain=DOMAIN, locale=language)
            for message in ours:
                if message.id and _key(message) not in have:
                    wanted[message.id] = message
            catalog.update(wanted, no_fuzzy_matching=True)
            _write(catalog, path)
            print(f"{language}: {len(catalog)} strings in {_relative(path)}")
    return 0


def fold_command() -> int:
    for language in languages():
        files = catalog_files(language)
        merged = read_catalog(language)
        _write(merged, files[0])
        for part in files[1:]:
            part.unlink()
        print(f"{language}: {len(files) - 1} part(s) folded into {_relative(files[0])}")
    return 0


def problems(language: str, pot: Catalog | None = None) -> list[str]:
    """Every reason the catalog of ``language`` is not ready: a string missing, empty or fuzzy, a
    translation whose placeholders differ from its msgid's, two files translating one string apart."""
    pot = pot if pot is not None else template()
    catalog = read_catalog(language)
    found = []
    seen: dict[tuple, object] = {}
    for path in catalog_files(language):
        for message in _read(path, language):
            if not message.id:
                continue
            other = seen.setdefault(_key(message), message.string)
            if other != message.string and all(_filled(s) for s in (other, message.string)):
                found.append(f"{language}: translated two ways (see parts/): {_short(message.id)}")
    for message in pot:
        if not message.id:
            continue
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        have = catalog.get(message.id, message.context)
        if have is None:
            found.append(f"{language}: missing ({where}): {_short(message.id)}")
        elif not _filled(have.string):
            found.append(f"{language}: not translated ({where}): {_short(message.id)}")
        elif have.fuzzy:
            found.append(f"{language}: fuzzy, check and remove the flag ({where}): {_short(message.id)}")
        else:
            found.extend(f"{language}: {p} ({where}): {_short(message.id)}" for p in placeholder_problems(have))
    return found


def placeholder_problems(message) -> list[str]:
    """A translation must use exactly the msgid's ``{fields}`` (every plural form: those of the plural msgid)."""
    if isinstance(message.id, str):
        pairs = [(placeholders(message.id), message.string)]
    else:
        wanted = placeholders(message.id[1]) | placeholders(message.id[0])
        pairs = [(wanted, s) for s in message.string]
    out = []
    for wanted, translated in pairs:
        got = placeholders(translated)
        if got != wanted:
            out.append(f"placeholders {sorted(got)} instead of {sorted(wanted)}")
    return out


def _filled(value) -> bool:
    return bool(value) and (isinstance(value, str) or all(value))


def _short(msgid) -> str:
    text = msgid if isinstance(msgid, str) else msgid[0]
    text = " ".join(text.split())
    return text if len(text) <= 90 else text[:87] + "..."


def check_command() -> int:
    pot = template()
    found = [p for language in languages() for p in problems(language, pot)]
    for line in found:
        print(line)
    print(f"{len(pot)} strings, languages {', '.join([SOURCE_LANGUAGE, *languages()])}: "
          + ("every catalog complete" if not found else f"{len(found)} problem(s)"))
    return 1 if found else 0


def init_command(language: str) -> int:
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if path.exists():
        print(f"{_relative(path)} exists: use update")
        return 1
    catalog = Catalog(domain=DOMAIN, locale=language, project="csresearch", fuzzy=False)
    _write(catalog, path)
    return update_command(None, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("extract")
    update = sub.add_parser("update")
    update.add_argument("--part", help="write new strings to locale/<lang>/parts/<PART>.po")
    update.add_argument("--only", nargs="*", type=Path, help="with --part: only the strings of these files/folders")
    sub.add_parser("fold")
    sub.add_parser("check")
    init = sub.add_parser("init")
    init.add_argument("language")
    args = parser.parse_args(argv)
    if args.command == "extract":
        return extract_command()
    if args.command == "update":
        with locked():
            return update_command(args.part, args.only)
    if args.command == "fold":
        with locked():
            return fold_command()
    if args.command == "check":
        return check_command()
    return init_command(args.language)


if __name__ == "__main__":
    sys.exit(main())
