"""Claims of the experiments report, re-derived from the table written beside it (issue 16, claims
tests): the headline's clause for each experiment and every KPI on the index must cite the primary
estimate of the primary outcome in experiment_summary.csv, at the precision they print, with the
direction and the verdict ("raised", "no detectable effect", "cannot be measured") that the CSV's
own interval and Holm-adjusted p-value imply.

The test reads the CSV (not the result object), parses the numbers out of the sentences, and checks
each against the CSV value rounded to the decimals the sentence shows; it never calls the report's
formatters. Worlds: the e-mail world (three arms, event outcomes, no exposure recorded) run as the
notebook runs, the demo world, the small world, and small worlds of awkward shapes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import execute_notebook, world_path
from csresearch.analyses.experiments import report, words
from csresearch.analyses.experiments.settings import Settings

NOTEBOOK = "04_uplift_experiments"
ALPHA = 0.05
NUMBER = re.compile(r"[−+-]?\$?\d[\d,]*(?:\.\d+)?")
BAD = re.compile(r"(?<![A-Za-z])(nan|NaN|inf|n/a|None)(?![A-Za-z])|−nan|\bnull\b")


def _value(token: str) -> tuple[float, int]:
    """A printed number and how many decimals it shows: '−$2.31' -> (-2.31, 2)."""
    clean = token.replace("\u2212", "-").replace("$", "").replace(",", "").replace("+", "")
    decimals = len(clean.split(".")[1]) if "." in clean else 0
    return float(clean), decimals


def _matches(token: str, value: float, scale: float) -> bool:
    shown, decimals = _value(token)
    return abs(shown - value * scale) <= 0.5 * 10 ** -decimals + 1e-9


def _scale(unit: str) -> float:
    return 100.0 if unit == "points" else 1.0


def _detected(row: pd.Series) -> bool:
    excludes = row["low"] > 0 or row["high"] < 0
    return bool(excludes and (int(row["comparisons"]) == 1 or row["p_holm"] < ALPHA))


def _cited(text: str, row: pd.Series, after: str) -> None:
    """The estimate printed after ``after`` and the two bounds after 'CI' are the row's."""
    scale = _scale(row["unit"])
    estimate = NUMBER.search(text, text.index(after) + len(after))
    assert estimate and _matches(estimate.group(), abs(row["estimate"]), scale), (text, row["estimate"])
    bounds = NUMBER.findall(text[text.index(" CI ", estimate.end()) + 4:])[:2]
    assert _matches(bounds[0], row["low"], scale) and _matches(bounds[1], row["high"], scale), (text, row["low"],
                                                                                                 row["high"])
    assert bounds[0] != bounds[1], f"an interval rounded to a point: {text}"


def _clauses(headline: str, names: list[str]) -> dict[str, str]:
    """Each experiment's clause of the headline, found by its name (in the order they appear)."""
    found = sorted((headline.index(n), n) for n in names if n in headline)
    return {n: headline[start:(found[i + 1][0] if i + 1 < len(found) else len(headline))]
            for i, (start, n) in enumerate(found)}


def check_claims(summary: dict, table: pd.DataFrame, settings: Settings) -> int:
    """Re-derive the headline and the KPIs of one report from its experiment_summary table; returns
    how many claims were checked."""
    headline, kpis = summary["headline"], summary["kpis"]
    assert not BAD.search(headline), headline
    ids = [e["experiment_id"] for e in summary["experiments"]]  # the experiments read out
    names = {e: (settings.experiments[e].description if e in settings.experiments else "") or e for e in ids}
    clauses = _clauses(headline, list(names.values()))
    checked = 0
    for eid in ids:
        s = settings.experiments.get(eid, settings.experiment_defaults)
        primary = s.primary_outcome if s.primary_outcome in s.outcomes else s.outcomes[0]
        rows = table[(table["experiment_id"] == eid) & (table["outcome"] == primary) & (table["primary"] == True)]  # noqa: E712
        rows = rows[rows["estimator"] != "cannot be measured"]
        clause = clauses[names[eid]]
        if rows.empty:
            unmeasured = table[(table["experiment_id"] == eid) & (table["outcome"] == primary)
                               & (table["estimator"] == "cannot be measured")]
            if len(unmeasured) and (unmeasured["arm"] == "every arm").any():
                reason = unmeasured[unmeasured["arm"] == "every arm"]["verdict"].iloc[0]
                assert "cannot be measured" in clause and reason.split(": ")[1].split(".")[0] in clause, (clause, reason)
                assert "no detectable" not in clause and "MDE" not in clause
            else:
                assert "not estimable" in clause or "too early" in clause or "too few" in clause, clause
            checked += 1
            continue
        several = len(rows) > 1
        for _, row in rows.iterrows():
            label = row["outcome_label"]
            part = clause
            if several:  # each comparison's part of the clause starts with "<arm> vs <control>"
                start = clause.index(f"{row['arm']} vs {row['control_arm']}")
                part = clause[start:]
            if _detected(row):
                if row["design"] == "randomised":
                    verb = "raised" if row["estimate"] > 0 else "lowered"
                    assert f"{verb} {label} by" in part, (part, row.to_dict())
                    _cited(part, row, f"{verb} {label} by ")
                else:
                    more = "higher" if row["estimate"] > 0 else "lower"
                    # the sequential-trial estimate compares adopters with accounts not adopting yet, and
                    # never calls itself an upper bound (the direction of confounding is not known)
                    who = ("accounts not yet adopting" if str(row["estimator"]).startswith("sequential trials")
                           else "non-users")
                    assert f"had {label} " in part and f" {more} than comparable {who}" in part, part
                    assert "upper bound" not in part, part
                    _cited(part, row, f"had {label} ")
            else:
                assert "no detectable" in part.split(";")[0] and "raised" not in part.split(";")[0].split(" MDE")[0], part
                if row["design"] == "randomised":
                    mde = NUMBER.search(part, part.index("(MDE ") + 5)
                    assert mde and _matches(mde.group(), row["mde"], _scale(row["unit"])), (part, row["mde"])
                elif str(row["estimator"]).startswith("sequential trials"):
                    assert "comparable accounts not yet adopting" in part, part   # its comparator, not never-users
            checked += 1
        # the index's KPIs: one per comparison, the same numbers
        mine = [k for k in kpis if k["experiment_id"] == eid]
        assert len(mine) == len(rows), (eid, mine)
        for k, (_, row) in zip(mine, rows.iterrows()):
            assert (k["arm"], k["outcome"]) == (row["arm"], row["outcome"])
            assert k["value"] == pytest.approx(row["estimate"], rel=1e-9, abs=1e-12)
            assert (k["low"], k["high"]) == (pytest.approx(row["low"], abs=1e-12), pytest.approx(row["high"], abs=1e-12))
            assert not BAD.search(k["display"]), k
            shown = NUMBER.findall(k["display"])
            scale = _scale(row["unit"])
            assert _matches(shown[0], row["estimate"], scale) and _matches(shown[-2], row["low"], scale) \
                and _matches(shown[-1], row["high"], scale), (k["display"], row.to_dict())
            checked += 1
    assert len(kpis) == sum(1 for k in kpis if k["experiment_id"] in ids)
    return checked


def _published(result, tmp_path: Path) -> tuple[dict, pd.DataFrame]:
    """What the notebook publishes for a result (summary.json's headline and KPIs, and the CSV read back)."""
    path = tmp_path / "experiment_summary.csv"
    result.tables()["experiment_summary"].to_csv(path, index=False)
    summary = {"headline": words.headline(result), "kpis": [k.as_dict() for k in words.kpis(result)],
               "experiments": result.summary()["experiments"]}
    return json.loads(json.dumps(summary)), pd.read_csv(path)


@pytest.mark.slow
def test_claims_on_the_email_world_as_the_notebook_writes_them(tmp_path):
    # three experiments: the two-arm outreach experiment, the adoption study (not randomised) and the
    # three-arm e-mail experiment (event outcomes, exposure not recorded)
    path = world_path(accounts=3000, months=24, seed=201, end_month="2026-10", email_experiment=True)
    summary = execute_notebook(NOTEBOOK, path, tmp_path, uplift_n_estimators=20)
    table = pd.read_csv(tmp_path / NOTEBOOK / "experiment_summary.csv")
    assert {"exp_email_campaign", "exp_cs_outreach_2026"} <= set(table["experiment_id"])
    assert check_claims(summary, table, Settings()) >= 2 + 2 + 2  # 2 e-mail arms (+ KPIs), outreach, adoption
    # the e-mail experiment's clause names both arms against no_email
    assert "email_a vs no_email" in summary["headline"] and "email_b vs no_email" in summary["headline"]
    html = (tmp_path / f"{NOTEBOOK}.ipynb").read_text()
    assert "95% CI nan" not in html and "nan to nan" not in html


@pytest.mark.slow
def test_claims_on_the_demo_world(demo_dataset, tmp_path):
    result = report.build(demo_dataset, pd.Period("2026-10", "M"), Settings(uplift_models=[]))
    summary, table = _published(result, tmp_path)
    assert check_claims(summary, table, Settings()) == 4  # two experiments: a clause and a KPI each


def test_claims_on_the_small_world(small_dataset, tmp_path):
    result = report.build(small_dataset, pd.Period("2026-10", "M"), Settings(uplift_models=[]))
    summary, table = _published(result, tmp_path)
    assert check_claims(summary, table, Settings()) >= 2


@pytest.mark.parametrize("scenario", ["no_churn", "everyone_churns", "single_account", "one_churn_date"])
def test_claims_on_awkward_small_worlds(scenario, tmp_path):
    import duckdb

    import matrix_worlds as mw

    con = duckdb.connect(str(world_path(accounts=150, months=24, seed=5, end_month="2026-10")), read_only=True)
    tables = {t: con.table(t).df() for (t,) in con.execute("SHOW TABLES").fetchall()}
    con.close()
    cut, month = mw.cut(tables, 24)
    folder = mw.write(mw.scenario(cut, scenario, month), tmp_path / scenario)
    from csresearch.data import open_dataset

    result = report.build(open_dataset(folder), month, Settings(uplift_models=[]))
    summary, table = _published(result, tmp_path)
    assert check_claims(summary, table, Settings()) >= 1


# ==================================================================================================
# The same claims in Japanese (issue 18): the catalog translates the words, never the numbers
# ==================================================================================================
# words a Japanese page may keep: acronyms, estimator and author names, and code the reader types
KEPT = {"MRR", "ARR", "CSM", "CI", "ITT", "CUPED", "SRM", "SMD", "MDE", "AUUC", "Qini", "Cox", "Kaplan", "Meier",
        "Holm", "Bonferroni", "Wilson", "AIPW", "DiD", "RMST", "NPS", "QBR", "ROI", "VanderWeele", "Ding",
        "Abadie", "Kaplan-Meier", "E", "p", "t", "pt", "k", "vs"}
CODE = re.compile(r"`[^`]*`|params/\S+\.yml|\w+\.csv|p_holm|p_value|expected_split|\d{4}-\d{2}")


def _latin_words(text: str, names: set[str]) -> set[str]:
    """Latin-script words of ``text`` that are neither kept nor the data's own names."""
    text = CODE.sub(" ", text)
    for name in sorted(names, key=len, reverse=True):
        text = text.replace(name, " ")
    return {w for w in re.findall(r"[A-Za-z][A-Za-z_-]*", text) if w not in KEPT}


def _numbers(text: str) -> list[str]:
    return [n.replace("\u2212", "-") for n in re.findall(r"[−+-]?\d[\d,]*(?:\.\d+)?", text)]


@pytest.fixture(scope="module")
def small_in_both(small_dataset):
    from csresearch import i18n

    def build(language):
        with i18n.using(language):
            result = report.build(small_dataset, pd.Period("2026-10", "M"), Settings(uplift_models=[]))
            return result, words.headline(result), words.kpis(result)

    return build("en"), build("ja")


def test_the_japanese_headline_and_kpis_cite_the_english_numbers(small_in_both):
    (result, headline_en, kpis_en), (_, headline_ja, kpis_ja) = small_in_both
    assert result.readouts and kpis_en
    # every number of the English headline and nothing else (Japanese orders the clauses' words its own way;
    # the month is written 2026年10月, 'October 2026' in English)
    assert sorted(_numbers(headline_ja.replace("2026年10月", ""))) == sorted(
        _numbers(headline_en.replace("October 2026", ""))), (headline_en, headline_ja)
    assert [(k.value, k.extra) for k in kpis_ja] == [(k.value, k.extra) for k in kpis_en]
    assert [_numbers(k.display) for k in kpis_ja] == [_numbers(k.display) for k in kpis_en]
    assert all("信頼区間" in k.display for k in kpis_ja) and all(" CI " in k.display for k in kpis_en)
    names = {r.experiment_id for r in result.readouts} | {r.settings.description for r in result.readouts}
    assert not _latin_words(headline_ja + " ".join(k.name + k.display for k in kpis_ja), names)


def test_every_sentence_heading_and_header_of_a_japanese_readout_is_japanese(small_dataset):
    from collections import defaultdict

    from csresearch import i18n
    from csresearch.analyses.base import Table
    from csresearch.analyses.experiments import views

    with i18n.using("ja"):
        result = report.build(small_dataset, pd.Period("2026-10", "M"), Settings(uplift_models=[]))
        texts = [words.headline(result), words.windows_sentence(result)]
        tables = [views.windows_table(result)]
        for r in result.readouts:
            blocks = views.readout_blocks(r, defaultdict(lambda: None))
            texts += [b for b in blocks if isinstance(b, str)]
            tables += [b for b in blocks if isinstance(b, Table)]
        names = {"Mid-Market", "Enterprise", "SMB", "S-learner", "T-learner"}
        for r in result.readouts:
            names |= {r.experiment_id, r.settings.description, r.settings.control_arm, *r.arms}
            for column in ("segment_for_report", "segment", "touch_tier", "region", "industry"):  # covariate levels
                names |= set(map(str, r.frame.get(column, pd.Series(dtype=str)).dropna().unique()))
        for t in tables:
            texts += [t.caption or "", *map(str, t.data.columns)]
            texts += [str(v) for c in t.data.columns for v in t.data[c] if isinstance(v, str)]
    assert len(texts) > 40
    leftover = {w for t in texts for w in _latin_words(t, names)}
    assert not leftover, sorted(leftover)


def _targeting_rows() -> pd.DataFrame:
    rows = [{"policy": policy, "share_treated": share, "accounts_treated": int(1000 * share),
             "retention_uplift": 0.05, "retention_uplift_low": 0.01, "retention_uplift_high": 0.09,
             "incremental_arr": 1000.0, "cost": 100.0, "net_value": 900.0, "net_value_low": -50.0,
             "net_value_high": 1800.0, "chosen": policy == "random k%" and share == 1.0}
            for policy in ("top k% by predicted uplift", "random k%") for share in (0.2, 1.0)]
    return pd.DataFrame(rows)


def test_targeting_table_names_policies_in_the_run_language():
    from csresearch import i18n
    from csresearch.analyses.experiments import views

    # 'everyone' only for a 100% share (once, the chosen copy kept); a smaller share names its policy
    shown = views.targeting_display(_targeting_rows())
    assert shown["policy"].tolist() == ["highest predicted uplift", "random", "everyone"]
    assert shown["chosen"].tolist() == ["", "", "chosen on the other half"]
    with i18n.using("ja"):
        shown = views.targeting_display(_targeting_rows())
    assert shown["方針"].tolist() == ["予測アップリフトの高い順", "ランダム", "全顧客"]
    assert shown["採用"].tolist() == ["", "", "もう半分で選定"]


def test_hand_made_sentences_in_japanese():
    from csresearch import i18n
    from csresearch.analyses.experiments.settings import settings_for
    from csresearch.analyses.experiments.words_terms import term

    row = {"outcome": "retention", "estimate": 0.053, "low": 0.027, "high": 0.078, "p_holm": 0.0001,
           "comparisons": 1, "arm": "treatment", "control_arm": "control", "estimator": "intention to treat",
           "mde": 0.036}
    assert words.effect_sentence({**row, "outcome_label": "182-day retention"}, "Outreach") == (
        "Outreach raised 182-day retention by 5.3 pt (95% CI 2.7–7.8 pt).")
    flat = {"reason": "no variation", "horizon_days": 90, "accounts": 40, "value": 1.0, "kind": "retention",
            "arm": None}
    with i18n.using("ja"):
        label = settings_for("x", {"x": {"outcomes": ["retention"], "horizon_days": 90}}).outcome("retention").label
        assert label == "90日継続率"
        assert words.effect_sentence({**row, "outcome_label": "182日継続率"}, "施策A") == (
            "施策Aにより182日継続率が5.3pt上昇しました（95%信頼区間 2.7–7.8pt）。")
        assert words.unmeasured_sentence({**flat, "outcome_label": label}) == (
            "90日継続率は測定できません：40社のいずれも割付から90日以内に解約しておらず、群間で比べる解約がありません。"
            "値にばらつきのない指標では、群間の差は示せません。")
        assert term("ended 2026-08") == "2026年8月に終了" and term("naive users vs non-users").startswith("単純比較")
        assert term("control") == "control"  # an arm is data: shown as written
    assert term("ended 2026-08") == "ended 2026-08"  # English keeps the CSV's status


def test_a_shipped_experiment_name_reads_in_the_run_language_and_a_teams_own_as_written():
    """params/04 ships English descriptions: a Japanese run shows the catalog's Japanese for exactly those,
    and a team's own description (any language) as written; no description falls back to the id."""
    from types import SimpleNamespace

    from csresearch import i18n
    from csresearch.analyses.experiments import words

    shipped = SimpleNamespace(description="Proactive CSM outreach", experiment_id="exp_cs_outreach_2026")
    own = SimpleNamespace(description="Onboarding webinar", experiment_id="exp_webinar")
    bare = SimpleNamespace(description="", experiment_id="exp_bare")
    assert words.display_name(shipped) == "Proactive CSM outreach"
    with i18n.using("ja"):
        assert words.display_name(shipped) == "CSMからのプロアクティブな働きかけ"
        assert words.display_name(own) == "Onboarding webinar"
        assert words.display_name(bare) == "exp_bare"
