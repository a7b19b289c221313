"""Why they left: cancellation reasons ranked by accounts and by ARR (Pareto), by segment, and the
themes of the free-text comments (TF-IDF + NMF, computed locally)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .compute_churns import NOT_RECORDED

# Words that carry no theme in cancellation comments: courtesy phrases and the fragments that
# contractions leave behind ("weren't" -> "weren"), on top of scikit-learn's English stop words.
COMMENT_FILLER_WORDS = frozenset({
    "thanks", "thank", "please", "honestly", "frank", "feedback", "admin", "hard", "feelings", "later", "come",
    "cancel", "term", "end", "help", "just", "really", "per", "weren", "wasn", "don", "didn", "doesn", "isn",
    "aren", "couldn", "wouldn", "won", "ll", "ve", "re", "we", "us", "our",
    # CRM form boilerplate ("per the account owner")
    "account", "owner",
})


def reasons_pareto(churned: pd.DataFrame, by: str = "reason") -> pd.DataFrame:
    """Churns and ARR lost per reason, largest ARR first, with shares and cumulative shares.

    Reasons missing from the cancellation form count as ``not recorded`` rather than vanishing.
    Columns: ``<by>, churns, arr_lost, churn_share, arr_share, cum_churn_share, cum_arr_share``
    (the cumulative shares follow each chart's own order: by count, resp. by ARR).
    """
    cols = [by, "churns", "arr_lost", "churn_share", "arr_share", "cum_churn_share", "cum_arr_share"]
    if churned.empty:
        return pd.DataFrame(columns=cols)
    frame = churned.assign(**{by: churned[by].fillna(NOT_RECORDED).replace("", NOT_RECORDED)})
    table = frame.groupby(by, as_index=False).agg(churns=("account_id", "size"), arr_lost=("arr_lost", "sum"))
    table["churn_share"] = table["churns"] / table["churns"].sum()
    total_arr = table["arr_lost"].sum()
    table["arr_share"] = table["arr_lost"] / total_arr if total_arr > 0 else 0.0
    by_count = table.sort_values(["churns", "arr_lost", by], ascending=[False, False, True])
    table["cum_churn_share"] = by_count["churn_share"].cumsum().reindex(table.index)
    table = table.sort_values(["arr_lost", "churns", by], ascending=[False, False, True])
    table["cum_arr_share"] = table["arr_share"].cumsum()
    return table[cols].reset_index(drop=True)


def reasons_by_segment(churned: pd.DataFrame, value: str = "churns") -> pd.DataFrame:
    """Reason x segment: churn counts (``value='churns'``) or ARR lost (``value='arr_lost'``)."""
    if churned.empty:
        return pd.DataFrame()
    frame = churned.assign(reason=churned["reason"].fillna(NOT_RECORDED),
                           segment=churned["segment"].fillna("unknown"))
    if value == "churns":
        table = pd.crosstab(frame["reason"], frame["segment"])
    else:
        table = frame.pivot_table(index="reason", columns="segment", values=value, aggfunc="sum", fill_value=0)
    order = table.sum(axis=1).sort_values(ascending=False).index
    return table.loc[order]


@dataclass
class Themes:
    """Comment themes: ``themes`` one row per theme (label, top terms, comments, example),
    ``assignments`` one row per comment (account_id, theme)."""

    themes: pd.DataFrame
    assignments: pd.DataFrame
    method: str


def comment_themes(comments: pd.DataFrame, n_themes: int = 5, top_terms: int = 4,
                   random_state: int = 0) -> Themes:
    """Group free-text churn comments into themes, locally: TF-IDF (scikit-learn) then NMF.

    ``comments`` has ``account_id`` and ``comment``. Each comment goes to the theme with the largest
    NMF weight; a theme is labelled by its top terms. Fewer distinct comments than themes lowers the
    number of themes (NMF cannot find more themes than documents). No external service, no download.
    """
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    empty = Themes(pd.DataFrame(columns=["theme", "terms", "comments", "example"]),
                   pd.DataFrame(columns=["account_id", "theme"]), "none")
    text = comments.dropna(subset=["comment"])
    text = text[text["comment"].str.strip().str.len() > 0]
    if text.empty:
        return empty
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    stop_words = sorted(ENGLISH_STOP_WORDS | COMMENT_FILLER_WORDS)
    vectorizer = TfidfVectorizer(stop_words=stop_words, ngram_range=(1, 2), min_df=1, sublinear_tf=True,
                                 token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
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
        label = ", ".join(chosen) if chosen else "other"
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
    return Themes(themes, assignments, "TF-IDF + NMF" if k > 1 else "TF-IDF (one theme)")
