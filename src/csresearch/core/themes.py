"""Which themes run through free-text comments (cancellation comments, survey answers), in English,
Japanese or both: TF-IDF (scikit-learn) then NMF, computed locally.

English is split into words on its spaces, as before. Japanese has no spaces, so Japanese comments are
cut into words by a morphological analyser, and only the words that carry a theme are kept: nouns,
verbs, adjectives and adjectival nouns, by their part of speech, in their dictionary form (乗り換え ->
乗り換える), never particles, auxiliaries or punctuation; a short list of Japanese stop words drops
the content words every cancellation says (解約, 契約, 今後, こと, する...). A corpus of both languages
is read comment by comment: a comment with Japanese characters goes through the Japanese analyser (its
Latin words, product names mostly, lower-cased and kept), any other through the English path. Themes
are named by their top terms, joined with "、" when they are Japanese.

**Why fugashi with unidic-lite** (and not janome): both are maintained and install from PyPI with their
dictionary, with no system MeCab. Measured with ``benchmarks/ja_tokenizers.py`` on 2,000 synthetic
Japanese churn comments (~29,000 tokens, each read with its part of speech; Python 3.11 on a 2-core
machine shared with other jobs, load 15-20, four runs each, so the ratio matters more than the level):

=============================  ==========================  ===========================
                               fugashi 1.5 + unidic-lite   janome 0.5
=============================  ==========================  ===========================
download                       0.7 MB wheel + 47 MB sdist  19.7 MB wheel
installed                      251 MB                      203 MB
import + dictionary load       0.04-0.07 s                 0.66-0.83 s
speed                          55,000-82,000 tokens/s      3,900-5,500 tokens/s
=============================  ==========================  ===========================

fugashi (a Cython wrapper of MeCab, binary wheels for Linux, macOS and Windows) tokenises ~15x faster
and loads ~15x faster, for 48 MB more on disk: 50,000 survey answers (~750,000 tokens) take about ten
seconds instead of two to three minutes, and every test or report that touches comments pays 0.05 s,
not 0.7 s. UniDic is the dictionary of Japan's national language
institute (NINJAL) with consistent short word units and dictionary forms; janome's mecab-ipadic is
older. janome's one advantage, pure Python, does not matter while fugashi ships wheels for the
platforms the workbook runs on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

# Words that carry no theme in cancellation comments: courtesy phrases and the fragments that
# contractions leave behind ("weren't" -> "weren"), on top of scikit-learn's English stop words.
COMMENT_FILLER_WORDS = frozenset({
    "thanks", "thank", "please", "honestly", "frank", "feedback", "admin", "hard", "feelings", "later", "come",
    "cancel", "term", "end", "help", "just", "really", "per", "weren", "wasn", "don", "didn", "doesn", "isn",
    "aren", "couldn", "wouldn", "won", "ll", "ve", "re", "we", "us", "our",
    # CRM form boilerplate ("per the account owner")
    "account", "owner",
})

# Japanese parts of speech (UniDic's first level) whose words can carry a theme; everything else
# (particles 助詞, auxiliaries 助動詞, punctuation 補助記号, prefixes, suffixes, pronouns, adverbs,
# conjunctions, interjections...) is a stop word by its part of speech.
JAPANESE_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "形状詞"})
# Second level, within those: numerals and the dependent words (する, なる, ある, できる, よう...).
JAPANESE_FUNCTION_POS2 = frozenset({"数詞", "非自立可能", "助動詞語幹"})
# Content words every cancellation comment says, and courtesy phrases (the Japanese counterpart of
# COMMENT_FILLER_WORDS): dictionary forms as written.
JAPANESE_STOP_WORDS = frozenset({
    "こと", "事", "もの", "物", "ため", "為", "よう", "様", "方", "ところ", "感じ", "点", "中", "時", "際", "等", "他",
    "する", "ある", "いる", "なる", "できる", "思う", "考える", "言う", "行う", "いう", "よる", "おる", "頂く", "いただく",
    "解約", "契約", "今回", "今後", "弊社", "当社", "御社", "貴社", "結果", "理由", "判断", "検討", "状況", "部分", "場合",
    "まま", "世話", "感謝", "期待", "残念", "お願い", "願う", "申し訳", "ありがとう", "わけ", "自体", "本当",
    # the form's boilerplate: "per the account owner" (担当者によると, 管理者より), "frankly" (率直に申し上げると,
    # 正直なところ), "at the end of the term" (契約期間の終了をもって), "no hard feelings" (不満があるわけではない),
    # "maybe again later" (また機会があれば)
    "担当", "管理", "率直", "正直", "申し上げる", "期間", "終了", "もつ", "不満", "機会",
})

# Prefixes that negate the noun after them (不具合 "defect" is not 具合 "condition").
NEGATING_PREFIXES = frozenset({"不", "未", "非", "無"})
# Hiragana, katakana (with the prolonged sound mark) and CJK ideographs, incl. the half-width katakana.
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")
_LATIN_WORD = re.compile(r"^[a-zA-Z][a-zA-Z]+$")
_KATAKANA_WORD = re.compile(r"^[\u30a0-\u30ff]+$")


def has_japanese(text: str) -> bool:
    """Whether a text holds any kana or kanji."""
    return bool(_JAPANESE.search(text))


@lru_cache(maxsize=1)
def _tagger():
    import fugashi  # unidic-lite is found by fugashi itself: no system MeCab, no download

    return fugashi.Tagger()


def japanese_terms(text: str, stop_words: frozenset[str] = frozenset()) -> list[str]:
    """The theme-bearing words of a Japanese (or mixed) text, in order, in dictionary form.

    Kept: nouns, verbs, adjectives and adjectival nouns that are not numerals or dependent words and
    not in :data:`JAPANESE_STOP_WORDS`. Latin words inside the text (product and competitor names)
    are lower-cased and kept unless ``stop_words`` (the English list) holds them.
    """
    terms: list[str] = []
    negation = ""  # a negating prefix (不具合, 未対応) stays on its noun: 具合 alone means the opposite
    verb_stem = ""  # the verb just kept, as written (使い), in case an adjectival suffix follows
    katakana = False  # the word just kept is a katakana noun: UniDic cuts loanwords (ログ+イン) apart
    for word in _tagger()(text):
        surface = word.surface
        feature = word.feature
        pos1 = getattr(feature, "pos1", None)
        after_katakana, katakana = katakana, False
        if _LATIN_WORD.match(surface):
            lower = surface.lower()
            if lower not in stop_words:
                terms.append(lower)
            negation, verb_stem = "", ""
            continue
        if pos1 == "接頭辞" and surface in NEGATING_PREFIXES:
            negation = surface
            continue
        if pos1 == "接尾辞" and verb_stem and getattr(feature, "pos2", None) == "形容詞的":
            terms[-1] = verb_stem + surface  # 使い + にくい: "hard to use" is the theme, not "use"
            verb_stem = ""
            continue
        verb_stem = ""
        prefix, negation = negation, ""
        if not has_japanese(surface):
            continue  # digits, symbols, punctuation
        if pos1 not in JAPANESE_CONTENT_POS or getattr(feature, "pos2", None) in JAPANESE_FUNCTION_POS2:
            continue
        base = getattr(feature, "orthBase", None) or surface
        if pos1 == "名詞" and after_katakana and _KATAKANA_WORD.match(surface):
            terms[-1] += surface  # ログ + イン = ログイン, カスタマー + サクセス = カスタマーサクセス
            katakana = True
            continue
        if pos1 == "名詞" and prefix:
            base = prefix + base
        elif base in JAPANESE_STOP_WORDS or surface in JAPANESE_STOP_WORDS:
            continue
        if len(base) == 1 and not re.match(r"[\u3400-\u9fff]", base):
            continue  # a lone kana is a fragment, not a word
        terms.append(base)
        verb_stem = surface if pos1 == "動詞" else ""
        katakana = pos1 == "名詞" and bool(_KATAKANA_WORD.match(base))
    return terms


def _label(terms: list[str]) -> str:
    return ("、" if any(has_japanese(t) for t in terms) else ", ").join(terms)


@dataclass
class Themes:
    """Comment themes: ``themes`` one row per theme (label, top terms, comments, example),
    ``assignments`` one row per comment (account_id, theme)."""

    themes: pd.DataFrame
    assignments: pd.DataFrame
    method: str


def comment_themes(comments: pd.DataFrame, n_themes: int = 5, top_terms: int = 4,
                   random_state: int = 0) -> Themes:
    """Group free-text comments into themes, locally: TF-IDF (scikit-learn) then NMF.

    ``comments`` has ``account_id`` and ``comment``. Each comment goes to the theme with the largest
    NMF weight; a theme is labelled by its top terms. Fewer distinct comments than themes lowers the
    number of themes (NMF cannot find more themes than documents). English-only comments are read
    exactly as before Japanese support; Japanese comments through :func:`japanese_terms`. No external
    service, no download.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

    empty = Themes(pd.DataFrame(columns=["theme", "terms", "comments", "example"]),
                   pd.DataFrame(columns=["account_id", "theme"]), "none")
    text = comments.dropna(subset=["comment"])
    text = text[text["comment"].astype(str).str.strip().str.len() > 0]
    if text.empty:
        return empty
    text = text.assign(comment=text["comment"].astype(str))

    stop_words = frozenset(ENGLISH_STOP_WORDS | COMMENT_FILLER_WORDS)
    english = TfidfVectorizer(stop_words=sorted(stop_words), ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                              token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
    japanese = text["comment"].map(has_japanese)
    if japanese.any():
        english_analyser = english.build_analyzer()

        def analyse(comment: str) -> list[str]:
            return japanese_terms(comment, stop_words) if has_japanese(comment) else english_analyser(comment)

        vectorizer = TfidfVectorizer(analyzer=analyse, min_df=1, sublinear_tf=True)
    else:
        vectorizer = english
    analyse = vectorizer.build_analyzer()
    if not any(analyse(comment) for comment in text["comment"]):  # only stop words: no vocabulary
        return empty
    matrix = vectorizer.fit_transform(text["comment"])
    distinct = text["comment"].str.lower().str.strip().nunique()
    k = int(max(1, min(n_themes, distinct, matrix.shape[1])))
    terms = np.asarray(vectorizer.get_feature_names_out())
    if k == 1:
        weights = np.ones((matrix.shape[0], 1))
        components = np.asarray(matrix.sum(axis=0))
    else:
        model = NMF(n_components=k, init="nndsvda", random_state=random_state, max_iter=500)
        weights = model.fit_transform(matrix)
        components = model.components_
    labels: list[str] = []
    for row in components:
        ranked = [terms[i] for i in np.argsort(row)[::-1] if row[i] > 0]
        # skip a term already inside a chosen one, so labels are not "price, price increase"
        chosen: list[str] = []
        for term in ranked:
            if any(set(term.split()) & set(c.split()) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == top_terms:
                break
        label = _label(chosen) if chosen else "other"
        while label in labels:  # two themes with the same top terms stay distinguishable
            label += " (2)"
        labels.append(label)
    theme_of = weights.argmax(axis=1)
    theme_of[weights.max(axis=1) <= 0] = -1
    names = [labels[i] if i >= 0 else "other" for i in theme_of]
    assignments = pd.DataFrame({"account_id": text["account_id"].to_numpy(), "theme": names,
                                "comment": text["comment"].to_numpy()})
    rows = []
    for idx, label in enumerate(labels):
        members = np.where(theme_of == idx)[0]
        if len(members) == 0:
            continue
        strongest = members[np.argmax(weights[members, idx])]
        rows.append({"theme": label, "terms": label, "comments": len(members),
                     "example": text["comment"].iloc[strongest]})
    if (theme_of == -1).any():
        rows.append({"theme": "other", "terms": "", "comments": int((theme_of == -1).sum()),
                     "example": text["comment"].iloc[np.where(theme_of == -1)[0][0]]})
    themes = pd.DataFrame(rows).sort_values("comments", ascending=False).reset_index(drop=True)
    themes["share"] = themes["comments"] / themes["comments"].sum()
    method = "TF-IDF + NMF" if k > 1 else "TF-IDF (one theme)"
    if japanese.any():
        method += "; Japanese words by MeCab (fugashi) with UniDic"
    return Themes(themes, assignments, method)
