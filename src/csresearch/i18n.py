"""Which language a report speaks: gettext message catalogs read through Babel.

Every sentence, heading, table header, chart title, axis label and legend a reader sees is written in
English in the code and marked for translation::

    from ..i18n import _, N_, ngettext

    _("Data quality")                                              # a fixed string
    _("{n} accounts churned in {month}").format(n=..., month=...)  # named placeholders, filled AFTER
    ngettext("{n} paying account", "{n} paying accounts", n).format(n=text.count(n))
    LABELS = {"logo_churn": N_("Logo churn")}   # marked where defined, translated where used: _(LABELS[k])

Rules: the English text is the message id; never an f-string or ``+`` inside ``_()`` (the catalog could
not hold it, and word order differs between languages); numbers, money and months are formatted with
:mod:`csresearch.text` and passed as placeholders.

The run's language is one setting (``language`` in ``params/defaults.yml``, ``en`` by default), set once
per kernel by ``session.start`` (:func:`set_language`). English needs no catalog: the message ids are
the English text, so an English run is byte-for-byte what the code says. Every other language is one
file, ``locale/<lang>/LC_MESSAGES/csresearch.po``, plus any ``locale/<lang>/parts/*.po`` (areas being
translated at the same time by different people: ``tools/i18n.py fold`` merges them into the catalog).

The ``.po`` files are read at run time with :func:`babel.messages.pofile.read_po` and turned into a
:class:`gettext.GNUTranslations` in memory (cached per language), rather than compiled to ``.mo`` in a
build step: the ``.po`` is the only artefact, so an edited catalog is live on the next kernel and a
stale ``.mo`` can never disagree with it; reading the catalog costs a few tens of milliseconds per kernel.
Fuzzy and empty entries are not used (the English text shows, and ``tools/i18n.py check`` fails).
"""

from __future__ import annotations

import contextlib
import functools
import gettext
import io
import string
from pathlib import Path
from typing import Iterator

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "csresearch"
SOURCE_LANGUAGE = "en"

_current = SOURCE_LANGUAGE


def available_languages() -> tuple[str, ...]:
    """English (the source) and every language with a catalog folder under ``locale/``."""
    found = sorted(p.name for p in LOCALE_DIR.iterdir() if p.is_dir() and (p / "LC_MESSAGES" / f"{DOMAIN}.po").exists()) \
        if LOCALE_DIR.exists() else []
    return (SOURCE_LANGUAGE, *[lang for lang in found if lang != SOURCE_LANGUAGE])


def check_language(language: str) -> str:
    """``language`` if a catalog exists for it; ValueError with one sentence otherwise."""
    languages = available_languages()
    if language not in languages:
        raise ValueError(f"{language!r} is not a report language; choose one of {', '.join(languages)}")
    return language


def set_language(language: str | None) -> None:
    """The language of everything this process writes from now on (None: English): the catalog's
    words here, and the numbers, months and days of :mod:`csresearch.text` (its currency is kept)."""
    global _current
    _current = check_language(language or SOURCE_LANGUAGE)
    from . import text

    if hasattr(text, "use_locale"):
        text.use_locale(_current)


def get_language() -> str:
    return _current


@contextlib.contextmanager
def using(language: str | None) -> Iterator[None]:
    """``with using("ja"): ...`` speaks ``language`` inside the block and restores the previous one."""
    previous = _current
    set_language(language)
    try:
        yield
    finally:
        set_language(previous)


def catalog_files(language: str) -> list[Path]:
    """The files a language's catalog is read from: the catalog, then its parts (sorted)."""
    folder = LOCALE_DIR / language
    main = folder / "LC_MESSAGES" / f"{DOMAIN}.po"
    return ([main] if main.exists() else []) + sorted((folder / "parts").glob("*.po"))


def read_catalog(language: str):
    """One Babel :class:`~babel.messages.catalog.Catalog`: the catalog and its parts merged (a part's
    translated entry fills an entry the catalog lacks or leaves empty)."""
    from babel.messages.pofile import read_po

    files = catalog_files(language)
    if not files:
        raise ValueError(f"no catalog for {language!r} in {LOCALE_DIR}")
    with files[0].open("rb") as fh:
        merged = read_po(fh, locale=language, domain=DOMAIN)
    for part in files[1:]:
        with part.open("rb") as fh:
            extra = read_po(fh, locale=language, domain=DOMAIN)
        for message in extra:
            if not message.id:
                continue
            have = merged.get(message.id, message.context)
            if have is None:
                merged.add(message.id, message.string, flags=message.flags, context=message.context)
            elif not _translated(have.string) or have.fuzzy:   # (Catalog[...] = would keep the old string)
                have.string, have.flags = message.string, set(message.flags)
    return merged


def _translated(value: str | tuple[str, ...] | list[str] | None) -> bool:
    if isinstance(value, (tuple, list)):
        return bool(value) and all(value)
    return bool(value)


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The language's messages (cached per process); English is the source text itself."""
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(language), use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _(message: str) -> str:
    """``message`` in the run's language (the English text when it has no translation)."""
    return translations(_current).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the run's language (Japanese has one form)."""
    return translations(_current).ngettext(singular, plural, int(n))


def pgettext(context: str, message: str) -> str:
    """``message`` disambiguated by ``context`` (the same English word translated two ways)."""
    return translations(_current).pgettext(context, message)


def join_sentences(*sentences: str) -> str:
    """Sentences one after the other: a space between them in English, none in Japanese (empty ones left
    out)."""
    out = ""
    for sentence in sentences:
        if sentence:
            # TRANSLATORS: two sentences one after the other (no space between them in Japanese)
            out = _("{first} {second}").format(first=out, second=sentence) if out else sentence
    return out


def N_(message: str) -> str:
    """Mark a string for the catalog where it is defined (a module-level label); translate it with
    ``_(...)`` where it is shown."""
    return message


def placeholders(text: str) -> set[str]:
    """The named fields of a ``str.format`` template: ``"{n} of {total:,}"`` -> {"n", "total"}."""
    fields = set()
    try:
        for _literal, name, _spec, _conv in string.Formatter().parse(text):
            if name is not None:
                fields.add(name)
    except ValueError:
        fields.add("<unbalanced braces>")
    return fields
