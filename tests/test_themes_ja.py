"""Themes in Japanese and mixed Japanese/English comments (issue 18.4): Japanese comments are cut into
words by part of speech instead of falling into one "other" theme, and English comments read as before.

The planted corpora are hand-written cancellation comments of distinct topics, phrased differently
within a topic (not one sentence repeated), so a theme finder that cannot read Japanese fails them:
with the English path alone every Japanese comment has no vocabulary at all."""

from __future__ import annotations

import pandas as pd
import pytest

from csresearch.core import themes as T

PLANTED_JA = {
    "price": ["価格が高すぎて予算に合わなかった。", "値上げで価格が予算を超えた",
              "予算削減のため、価格の高いツールは続けられない", "来期の予算が減り、価格に見合わない"],
    "support": ["サポートの返信が遅く、不具合も放置された", "不具合が多く、サポートに問い合わせても返事がない",
                "サポート対応が遅い。不具合の修正もされない", "問い合わせへのサポートの返信が遅かった"],
    "competitor": ["競合の製品に乗り換えることにしました", "競合他社のツールに乗り換えた",
                   "競合製品の方が機能が多いので乗り換え", "親会社の方針で競合へ乗り換える"],
    "adoption": ["現場で使われず、定着しなかった", "担当者が退職して誰も使わなくなり定着しなかった",
                 "社内に定着せず、ほとんど使われていない", "導入したが使われないまま定着しなかった"],
}
# the word that must name each planted theme (a label is the theme's top terms)
ANCHOR = {"price": "価格", "support": "サポート", "competitor": "競合", "adoption": "定着",
          "en_price": "price", "en_bugs": "bugs"}
PLANTED_EN = {
    "en_price": ["The price increase was too much for our budget.", "Budget cuts, the price is too high.",
                 "Too expensive for our budget this year, price went up."],
    "en_bugs": ["Support was slow and bugs never got fixed.", "Too many bugs, support tickets ignored.",
                "Slow support response and recurring bugs."],
}


def _frame(groups: dict[str, list[str]]) -> pd.DataFrame:
    rows = [(f"{name}-{i}", text) for name, texts in groups.items() for i, text in enumerate(texts)]
    return pd.DataFrame(rows, columns=["account_id", "comment"])


def _check_planted(themes: T.Themes, groups: dict[str, list[str]]) -> None:
    theme_of = themes.assignments.set_index("account_id")["theme"]
    found = {}
    for name, texts in groups.items():
        mine = theme_of[[f"{name}-{i}" for i in range(len(texts))]]
        assert mine.nunique() == 1, f"{name} comments split over {sorted(mine.unique())}"
        found[name] = mine.iloc[0]
        assert found[name] != "other"
        assert ANCHOR[name] in found[name], f"{name}: theme named {found[name]!r}, without {ANCHOR[name]!r}"
    assert len(set(found.values())) == len(groups), f"two topics share a theme: {found}"
    assert themes.themes["comments"].sum() == sum(len(t) for t in groups.values())


def test_japanese_terms_keep_content_words_in_dictionary_form():
    # particles (が, に, の), auxiliaries (た, ない, ます) and punctuation go; verbs come back in
    # dictionary form; する/なる and the words every cancellation says (解約, 今後) are stop words
    assert T.japanese_terms("サポートの返信が遅く、問い合わせが放置された") == ["サポート", "返信", "遅い", "問い合わせ", "放置"]
    assert T.japanese_terms("解約することになりました。今後に期待しています") == []
    assert T.japanese_terms("競合に乗り換えました") == ["競合", "乗り換える"]
    # a negating prefix stays on its noun (具合 alone means "condition", 不具合 "defect"), and
    # 使い + にくい is "hard to use", not "use"
    assert T.japanese_terms("不具合が多く、未対応のまま") == ["不具合", "多い", "未対応"]
    assert T.japanese_terms("画面が使いにくい") == ["画面", "使いにくい"]
    # a loanword UniDic cuts in two is one word again; two katakana nouns with a particle between are not
    assert T.japanese_terms("定期的にログインしていた") == ["定期", "ログイン"]
    assert T.japanese_terms("サポートのサービス") == ["サポート", "サービス"]
    # the cancellation form's courtesy boilerplate carries no theme ("frankly, at the end of the term")
    assert T.japanese_terms("率直に申し上げると、契約期間の終了をもって解約をお願いします。") == []
    # Latin words in a Japanese comment (product names) are kept, lower-cased, unless a stop word
    assert T.japanese_terms("Slackとの連携がないのでHubSpotへ移行した", frozenset({"the"})) == \
        ["slack", "連携", "hubspot", "移行"]
    assert T.japanese_terms("the価格", frozenset({"the"})) == ["価格"]


def test_has_japanese():
    assert T.has_japanese("価格") and T.has_japanese("サポート") and T.has_japanese("ok です")
    assert not T.has_japanese("Price too high, 20% up!") and not T.has_japanese("")


def test_planted_japanese_themes_each_land_in_their_theme():
    themes = T.comment_themes(_frame(PLANTED_JA), n_themes=4)
    _check_planted(themes, PLANTED_JA)
    labels = list(themes.themes["theme"])
    assert all("、" in label for label in labels), labels  # Japanese terms joined the Japanese way
    assert "Japanese" in themes.method and "fugashi" in themes.method


def test_mixed_japanese_and_english_corpus():
    groups = {**PLANTED_JA, **PLANTED_EN}
    themes = T.comment_themes(_frame(groups), n_themes=6)
    _check_planted(themes, groups)
    theme_of = themes.assignments.set_index("account_id")["theme"]
    assert not T.has_japanese(theme_of["en_price-0"]) and ", " in theme_of["en_price-0"]


def test_english_path_unchanged_on_english_data():
    """English-only comments go through the English vectoriser as before (bigrams, English stop
    words): the labels are the English top terms, and the method does not mention Japanese."""
    themes = T.comment_themes(_frame(PLANTED_EN), n_themes=2)
    _check_planted(themes, PLANTED_EN)
    assert themes.method == "TF-IDF + NMF"
    # a bigram of the English path (ngram_range=(1, 2)) can only come from that path
    vocabulary = " | ".join(themes.themes["terms"])
    assert "," in vocabulary and "、" not in vocabulary


@pytest.mark.parametrize("comments", [["です。", "ます。"], ["ありがとうございました。", "今後に期待しています。"]])
def test_japanese_comments_of_stop_words_only_give_no_theme(comments):
    themes = T.comment_themes(pd.DataFrame({"account_id": ["a", "b"], "comment": comments}))
    assert themes.themes.empty and themes.method == "none"
