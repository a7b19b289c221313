"""Message catalogs (csresearch.i18n, tools/i18n.py): English is the code's own text, a translated
string is used only when it is complete, and the check fails on a string missing, empty or fuzzy in
a catalog, on placeholders that differ from the English, and on two parts translating one string apart.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from csresearch import i18n
from csresearch.analyses.base import ReportSettings

ROOT = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def locale_dir(tmp_path, monkeypatch):
    """A throwaway locale folder with a 'ja' catalog (the real one is not touched)."""
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    yield tmp_path
    i18n.translations.cache_clear()
    i18n.set_language("en")


def _write(path: Path, entries: dict, fuzzy: tuple = ()) -> None:
    catalog = Catalog(locale="ja", domain=i18n.DOMAIN)
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, flags=["fuzzy"] if msgid in fuzzy else [])
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog)


def _template(*msgids) -> Catalog:
    pot = Catalog(domain=i18n.DOMAIN)
    for msgid in msgids:
        pot.add(msgid, locations=[("src/x.py", 1)])
    return pot


MAIN = Path("ja") / "LC_MESSAGES" / "csresearch.po"


def test_english_is_the_source_text_and_a_translation_is_used_only_when_complete(locale_dir):
    _write(locale_dir / MAIN, {"Data quality": "データ品質", "Churn": "", "Rows": "行"}, fuzzy=("Rows",))
    assert i18n.available_languages() == ("en", "ja")
    assert i18n._("Data quality") == "Data quality"          # English: no catalog at all
    with i18n.using("ja"):
        assert i18n._("Data quality") == "データ品質"
        assert i18n._("Churn") == "Churn"                     # empty: the English shows (and check fails)
        assert i18n._("Rows") == "Rows"                       # fuzzy: not trusted at run time
        assert i18n._("Not in the catalog") == "Not in the catalog"
    assert i18n.get_language() == "en"                        # restored after the block


def test_plural_forms_english_two_japanese_one(locale_dir):
    catalog = Catalog(locale="ja", domain=i18n.DOMAIN)
    catalog.add(("{n} row", "{n} rows"), ("{n}行",))
    (locale_dir / MAIN).parent.mkdir(parents=True)
    with (locale_dir / MAIN).open("wb") as fh:
        write_po(fh, catalog)
    assert [i18n.ngettext("{n} row", "{n} rows", n).format(n=n) for n in (1, 2)] == ["1 row", "2 rows"]
    with i18n.using("ja"):
        assert [i18n.ngettext("{n} row", "{n} rows", n).format(n=n) for n in (1, 2)] == ["1行", "2行"]


def test_check_fails_on_a_string_missing_empty_fuzzy_or_with_other_placeholders(locale_dir):
    tool = _tool()
    _write(locale_dir / MAIN, {"Empty": "", "Fuzzy": "ファジー", "{n} of {total}": "{total}中{n}",
                               "{n} accounts churned in {month}": "{month}に{n}社が解約", "Fine": "良い",
                               "{a} and {b}": "{a}と{c}"}, fuzzy=("Fuzzy",))
    pot = _template("Missing", "Empty", "Fuzzy", "{n} of {total}", "{n} accounts churned in {month}", "Fine",
                    "{a} and {b}")
    found = tool.problems("ja", pot)
    text = "\n".join(found)
    assert "missing (src/x.py:1): Missing" in text
    assert "not translated (src/x.py:1): Empty" in text
    assert "fuzzy" in text and "Fuzzy" in text
    assert "placeholders ['a', 'c'] instead of ['a', 'b']" in text
    assert len(found) == 4, found                             # word order may change; the fields may not


def test_a_part_fills_the_catalog_and_two_files_disagreeing_fail_the_check(locale_dir):
    tool = _tool()
    _write(locale_dir / MAIN, {"Churn drivers": "", "Health score": "ヘルススコア"})
    _write(locale_dir / "ja" / "parts" / "drivers.po", {"Churn drivers": "解約要因", "Health score": "健康度"})
    with i18n.using("ja"):
        assert i18n._("Churn drivers") == "解約要因"           # the part fills what the catalog left empty
        assert i18n._("Health score") == "ヘルススコア"        # the catalog's own translation stays
    found = tool.problems("ja", _template("Churn drivers", "Health score"))
    assert found == ["ja: translated two ways (see parts/): Health score"]


def test_the_shipped_catalogs_hold_every_marked_string():
    """Every _() / ngettext() / N_() string of src/ and the notebooks is translated, unfuzzy, with the
    English placeholders, in every catalog (what `make lint` runs)."""
    tool = _tool()
    pot = tool.template()
    assert len(pot) > 30                                      # the extraction found the marked strings
    problems = [p for language in tool.languages() for p in tool.problems(language, pot)]
    assert not problems, "\n".join(problems[:20]) + "\n(python tools/i18n.py update, then translate)"


def test_every_translation_formats_with_the_english_placeholders():
    """A translation that would raise KeyError at run time (a misspelt field) fails here first."""
    catalog = i18n.read_catalog("ja")
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        fields = set().union(*(i18n.placeholders(i) for i in ids))
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for translated in strings:
            translated.format(**{f: "x" for f in fields})


def test_the_language_setting_is_checked_before_a_kernel_starts():
    assert ReportSettings().language == "en"
    assert ReportSettings(language="ja").language == "ja"
    with pytest.raises(Exception, match="'fr' is not a report language; choose one of en, ja"):
        ReportSettings(language="fr")


# ---- the data overview in both languages, on a hand-made result ---------------------------------
def _overview():
    from csresearch.analyses.data_overview.result import Result

    months = pd.period_range("2025-11", "2026-11", freq="M")
    trend = pd.DataFrame({"month": months, "month_end": months.to_timestamp(how="end"),
                          "mrr": [100_000.0] * 12 + [125_000.0], "paying_accounts": [40] * 12 + [41]})
    coverage = pd.DataFrame({"table": ["accounts", "usage_events"], "rows": [41, 1200],
                             "date_column": ["created_at", "event_time"],
                             "first": [pd.Timestamp("2024-01-02").date()] * 2,
                             "last": [pd.Timestamp("2026-11-30").date(), pd.Timestamp("2026-09-15").date()],
                             "stops_early": [False, True]})
    return Result(month=pd.Period("2026-11", "M"), trend_months=13, coverage=coverage, trend=trend,
                  rows_read=1241, rows_rejected=0, tables_read=2, covered_to=pd.Timestamp("2026-11-30"),
                  covered_source="accounts")


def test_data_overview_reads_the_same_in_english_and_naturally_in_japanese():
    from csresearch.analyses.data_overview import words

    result = _overview()   # 41 accounts, MRR 125,000 against 100,000 a year earlier: up 25%
    assert words.headline(result) == ("41 paying accounts and $125,000 MRR at the end of November 2026, up 25% on a "
                                      "year earlier; 1,241 rows read across 2 tables, all usable.")
    assert words.coverage(result) == (
        "The data covers to 30 Nov 2026 (its latest record: accounts). One table stops a month or more earlier, so "
        "what it feeds is missing for the latest weeks: usage events (last record 15 Sep 2026).")
    assert [k.name for k in words.kpis(result)] == ["MRR at month end", "Paying accounts", "Rows rejected"]
    with i18n.using("ja"):
        headline = words.headline(result)
        assert headline.startswith("2026年11月末時点で有料顧客41社、MRRは")
        assert "（前年同月比25%増）。2テーブルから1,241行を読み込み、すべて使用。" in headline
        assert words.section("quality").translated().heading == "データ品質"
        assert [k.name for k in words.kpis(result)] == ["月末MRR", "有料顧客数", "除外した行"]
        # the index finds them by a key that does not change with the language
        assert [k.as_dict()["key"] for k in words.kpis(result)] == ["mrr", "paying_accounts", "rows_rejected"]
        shown = [words.headline(result), words.coverage(result), words.trend_title(result),
                 *words.coverage_table(result).data.columns, *(words.attribute_title(c) for c in
                                                                 ("segment", "touch_tier", "region")),
                 *(s.translated().heading + s.translated().text for s in words.SECTIONS.values())]
    english = _english_words(shown)
    assert not english, f"untranslated words in the Japanese data overview: {english}"


# Latin-script words a Japanese CS report keeps as they are: acronyms, units and the data's own names
KEPT = {"MRR", "ARR", "NRR", "GRR", "CSM", "CS", "TTV", "LTV", "AUC", "CI", "ACV", "RMST", "pt",
        "Cox", "Aalen", "Johansen", "Holm", "Wilson", "Fisher", "Kitagawa", "Schoenfeld"}   # methods keep their names


def _english_words(texts) -> list[str]:
    found = set()
    for text in texts:
        found |= {w for w in re.findall(r"[A-Za-z]{2,}", str(text)) if w not in KEPT}
    return sorted(found)


# ---- the churn decomposition and onboarding survival in Japanese ---------------------------------
def test_churn_driver_and_month_sentences_in_japanese_carry_the_same_numbers():
    """The hand-computed cases of tests/test_churn.py, read in Japanese: same numbers, Japanese order."""
    from csresearch.analyses.churn_decomposition.compute_change import change_interval, churn_change_decomposition
    from csresearch.analyses.churn_decomposition.compute_frame import account_month_churn
    from csresearch.analyses.churn_decomposition.compute_rates import churn_rates, mrr_bridge
    from csresearch.analyses.churn_decomposition.words import driver_sentence, month_sentences
    from test_churn import five_accounts, segment_frame

    before = segment_frame({"SMB": (10, 200), "ENT": (2, 200)}, "2026-09")
    after = segment_frame({"SMB": (24, 300), "ENT": (2, 100)}, "2026-10")
    frame = pd.concat([before, after], ignore_index=True)
    table = churn_change_decomposition(frame, ["segment"], "2026-10", window_months=1)
    rates = churn_rates(frame, windows=(1,))
    english = driver_sentence(table, rates, change_ci=change_interval(table))
    with i18n.using("ja"):
        japanese = driver_sentence(table, rates, change_ci=change_interval(table))
        accounts = account_month_churn(five_accounts(), None, "2026-04", "2026-05")
        month = " ".join(month_sentences(mrr_bridge(accounts), churn_rates(accounts, windows=(1,)), "2026-05"))
    # 3.0% -> 6.5% (+3.5 pt), 66% of it SMB's +2.3 pt: the numbers of the English sentence, in Japanese order
    assert english.startswith("Logo churn rose to 6.5% in October 2026")
    assert japanese.startswith("2026年10月の解約率は6.5%")
    assert "2026年9月の3.0%から上昇しました（+3.5pt、変化の95%信頼区間" in japanese
    assert "上昇の66%はSMBによるもので、+2.3pt（95%信頼区間" in japanese
    assert "2026年5月の解約率は0.0%" in month and "有料顧客3社のうち0社が解約しました" in month
    assert "ネット売上解約率は\u22128.5%（ネガティブチャーン" in month               # (30 - 60) / 355
    assert "MRRは$355から$385へ推移しました" in month
    assert _english_words([japanese, month]) == ["SMB"]              # the data's own segment name


def test_every_heading_of_the_three_reports_reads_in_japanese():
    from csresearch.analyses.churn_decomposition import words as churn
    from csresearch.analyses.data_overview import words as overview
    from csresearch.analyses.onboarding_survival import words as survival

    sections = [*overview.SECTIONS.values(), *churn.SECTIONS.values(), *survival.SECTIONS.values()]
    anchors = [s.anchor for s in sections]
    assert all(re.fullmatch(r"[a-z0-9-]+", a) for a in anchors)      # links that read the same in every language
    with i18n.using("ja"):
        shown = [s.translated() for s in sections]
        groups = [survival.group_label(g) for g in ("value in 0-30 days", "no value by day 90", "all accounts")]
    assert [s.heading for s in shown][:2] == ["データ概要", "データ品質"]
    assert groups == ["0〜30日で到達", "90日目までに未到達", "全顧客"]
    # code spans (`accounts`, km_by_cohort.csv) and method names are the only Latin script left
    prose = [re.sub(r"`[^`]*`|\*[A-Za-z ]+\*", "", s.heading + s.text) for s in shown]
    assert not _english_words(prose), _english_words(prose)


def test_update_writes_an_areas_new_strings_to_its_own_part(locale_dir, tmp_path, monkeypatch):
    """Translators working at once: `update --part drivers --only <area>` puts the area's untranslated
    strings in parts/drivers.po and leaves the catalog (and every other part) alone."""
    tool = _tool()
    monkeypatch.setattr(tool, "LOCALE_DIR", locale_dir)
    area = tmp_path / "area"
    area.mkdir()
    (area / "words.py").write_text('from csresearch.i18n import _\n\ndef f():\n    return _("Hello {name}"), _("Known")\n')
    _write(locale_dir / MAIN, {"Known": "既知"})
    before = (locale_dir / MAIN).read_bytes()
    assert tool.update_command("drivers", [area]) == 0
    assert (locale_dir / MAIN).read_bytes() == before
    part = tool._read(locale_dir / "ja" / "parts" / "drivers.po", "ja")
    assert [m.id for m in part if m.id] == ["Hello {name}"]           # "Known" is translated already
    found = tool.problems("ja", tool.template([area]))
    assert len(found) == 1 and found[0].startswith("ja: not translated (") and found[0].endswith("words.py:4): Hello {name}")


def test_the_rendering_failed_page_speaks_the_run_language_and_escapes_the_error():
    """The page left when a report's HTML cannot be rendered: the run's language (lang, the sentence
    from the catalog), UTF-8 declared, the error text escaped; an unknown language falls back."""
    from csresearch.report.workers import _failed_page

    try:
        raise RuntimeError("<script>x</script>")
    except RuntimeError as exc:
        ja = _failed_page("解約の分解", exc, "ja")
        en = _failed_page("Churn decomposition", exc, None)
        unknown = _failed_page("Churn decomposition", exc, "xx")
    assert '<html lang="ja">' in ja and '<meta charset="utf-8">' in ja
    assert "レポートを表示用に変換できませんでした：&lt;script&gt;x&lt;/script&gt;" in ja
    assert "<script>" not in ja and "rendering failed" not in ja
    assert '<html lang="en">' in en and "<pre>rendering failed: &lt;script&gt;x&lt;/script&gt;\nTraceback" in en
    assert '<html lang="en">' in unknown
