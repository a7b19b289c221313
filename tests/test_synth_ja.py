"""The Japanese demo world (issue 18.6): the same world as the English one (same seed, same accounts,
events, churns and planted truths), with Japanese labels and comments and yen prices."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from csresearch.data.synth import build_world, save_world
from csresearch.data.synth.vocab import EN, JA, JPY_PER_USD

ARGS = {"accounts": 300, "months": 18, "seed": 11, "end_month": "2026-10"}
# columns whose values are labels (or money, or free text) and may differ between the locales
RELABELLED = {
    "accounts": {"account_name", "industry", "csm_owner"},
    "subscriptions": {"product", "mrr", "currency"},
    "churn_reasons": {"competitor", "comment"},
    "surveys": {"comment"},
    "cs_activities": {"owner"},
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def worlds():
    return build_world(**ARGS), build_world(**ARGS, locale="ja")


def _mapping(en: pd.Series, ja: pd.Series) -> dict:
    """The one-to-one label map between two columns (fails if a label maps to two)."""
    pairs = pd.DataFrame({"en": en.to_numpy(), "ja": ja.to_numpy()}).dropna().drop_duplicates()
    assert pairs["en"].is_unique and pairs["ja"].is_unique, pairs
    return dict(zip(pairs["en"], pairs["ja"]))


def test_same_world_only_labels_and_money_differ(worlds):
    en, ja = worlds
    # the English default has no survey answers; with them, it is the same world plus one column
    en_with = build_world(**ARGS, survey_comments=True)
    for name, table in en.tables.items():
        other = en_with.tables[name]
        pd.testing.assert_frame_equal(table, other.drop(columns=["comment"]) if name == "surveys" else other)
    for name, table in ja.tables.items():
        english = en_with.tables[name]
        assert list(table.columns) == list(english.columns), name
        assert len(table) == len(english), name
        same = [c for c in table.columns if c not in RELABELLED.get(name, set())]
        pd.testing.assert_frame_equal(table[same], english[same], obj=name)
        for column in RELABELLED.get(name, set()):  # a value is missing in one exactly where in the other
            assert (table[column].isna() == english[column].isna()).all(), (name, column)


def test_labels_map_one_to_one(worlds):
    en, ja = worlds
    accounts = _mapping(en.tables["accounts"]["industry"], ja.tables["accounts"]["industry"])
    assert accounts == {e: j for e, j in zip(EN.industries, JA.industries) if e in accounts}
    owners = _mapping(en.tables["accounts"]["csm_owner"], ja.tables["accounts"]["csm_owner"])
    activities = _mapping(en.tables["cs_activities"]["owner"], ja.tables["cs_activities"]["owner"])
    assert all(owners[e] == j for e, j in activities.items())
    assert owners["Digital CS"] == "デジタルCSチーム"
    products = _mapping(en.tables["subscriptions"]["product"], ja.tables["subscriptions"]["product"])
    assert products == {"Starter": "ライトプラン", "Growth": "スタンダードプラン", "Enterprise": "エンタープライズプラン",
                        "Insights Add-on": "分析オプション"}
    competitors = _mapping(en.tables["churn_reasons"]["competitor"], ja.tables["churn_reasons"]["competitor"])
    assert set(competitors.values()) <= set(JA.competitors)
    names = _mapping(en.tables["accounts"]["account_name"], ja.tables["accounts"]["account_name"])
    assert len(names) == ARGS["accounts"]


def test_yen_prices_are_whole_and_proportional(worlds):
    en, ja = worlds
    usd, jpy = en.tables["subscriptions"], ja.tables["subscriptions"]
    assert set(usd["currency"]) == {"USD"} and set(jpy["currency"]) == {"JPY"}
    assert (jpy["mrr"] == np.round(jpy["mrr"])).all()                 # whole yen
    # the English world's cents times 120, exactly (list prices 25/45/75/10 dollars -> 3,000/5,400/9,000/1,200 yen)
    np.testing.assert_allclose(jpy["mrr"], usd["mrr"] * JPY_PER_USD, rtol=0, atol=1e-6)
    starter = jpy[(jpy["product"] == "ライトプラン") & (jpy["billing_period"] == "monthly")]
    assert (starter["mrr"] == starter["seats"] * 3000).all()
    annual = jpy[(jpy["product"] == "スタンダードプラン") & (jpy["billing_period"] == "annual")]
    assert (annual["mrr"] == annual["seats"] * 4590).all()             # 5,400 yen less 15%


def test_same_planted_truths(worlds):
    en, ja = worlds
    t_en, t_ja = json.loads(json.dumps(en.truth)), json.loads(json.dumps(ja.truth))
    p_en, p_ja = t_en.pop("params"), t_ja.pop("params")
    assert p_ja.pop("locale") == "ja" and p_ja.pop("survey_comments") is True
    assert p_ja.pop("list_price_per_seat") == {k: v * JPY_PER_USD for k, v in p_en.pop("list_price_per_seat").items()}
    assert p_en == p_ja
    assert _drop_addon_name(t_en) == ["Insights Add-on"]
    assert _drop_addon_name(t_ja) == ["分析オプション"]
    assert t_en == t_ja


def _drop_addon_name(truth: dict) -> list:
    """The add-on's product name is a label: remove it wherever the truth records it; returns the names."""
    found = []
    for value in truth.values():
        if isinstance(value, dict):
            if isinstance(value.get("addon"), dict) and "product" in value["addon"]:
                found.append(value["addon"].pop("product"))
            found += _drop_addon_name(value)
    return found


def test_japanese_texts(worlds):
    _, ja = worlds
    accounts = ja.tables["accounts"]
    assert accounts["account_name"].str.contains("株式会社|合同会社|有限会社").all()
    assert accounts["account_name"].is_unique
    assert accounts["account_name"].str.startswith("株式会社").mean() > 0.3   # 前株 and 後株 both common
    assert accounts["account_name"].str.endswith("株式会社").mean() > 0.3
    people = accounts.loc[accounts["touch_tier"] != "tech", "csm_owner"]
    assert people.str.fullmatch(r"\S+ \S+").all() and people.map(lambda s: bool(JAPANESE.search(s))).all()
    comments = ja.tables["churn_reasons"]["comment"].dropna()
    assert len(comments) > 20 and comments.map(lambda s: bool(JAPANESE.search(s))).all()
    # every theme a Japanese CS team would look for is there, and some comments mix in English product words
    corpus = " ".join(comments) + " ".join(ja.tables["surveys"]["comment"].dropna())
    for theme in ("価格が高い", "機能不足", "使い方が分からない", "乗り換え", "予算削減", "サポート対応"):
        assert theme in corpus, theme
    assert comments.str.contains("[A-Za-z]{3,}").any()
    # the comment matches its reason category: a competitor churn names its competitor
    reasons = ja.tables["churn_reasons"].dropna(subset=["comment"])
    named = reasons[reasons["reason"] == "competitor"]
    assert all(c in text for c, text in zip(named["competitor"], named["comment"]))


def test_survey_answers_follow_the_score(worlds):
    _, ja = worlds
    s = ja.tables["surveys"]
    share = s["comment"].notna().mean()
    assert len(s) > 600
    # 35% planted; with over 600 answers the binomial sd is under 2 points: 6 points is over 3 sd
    assert abs(share - 0.35) < 0.06, share
    nps = s[(s["survey_type"] == "nps") & s["comment"].notna()]
    assert set(nps.loc[nps["score"] >= 9, "comment"]) <= set(JA.survey_answers["positive"])
    assert set(nps.loc[nps["score"] <= 6, "comment"]) <= set(JA.survey_answers["negative"])


def test_saved_japanese_world_round_trips(tmp_path, worlds):
    _, ja = worlds
    path = save_world(ja, tmp_path / "demo_ja.duckdb")
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        back = con.sql("SELECT account_name, csm_owner FROM accounts ORDER BY account_id").df()
        currency = con.sql("SELECT DISTINCT currency FROM subscriptions").fetchall()
    finally:
        con.close()
    assert back["account_name"].tolist() == ja.tables["accounts"]["account_name"].tolist()
    assert currency == [("JPY",)]
    truth = json.loads(path.with_suffix(".truth.json").read_text())
    assert truth["params"]["locale"] == "ja"


def test_unknown_locale_is_refused():
    with pytest.raises(ValueError, match="locale"):
        build_world(20, 12, locale="fr")
