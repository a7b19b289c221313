"""Column headers a reader sees: one mapping from the machine names the CSVs keep to the words an HTML
table shows (``arr_at_risk`` -> "ARR at risk", ``csm_owner`` -> "CSM owner").

Every label is written in English and marked ``N_`` here, and translated where it is used
(:func:`header`), so a second language is a catalog entry, not a second mapping. A name the mapping
does not know falls back to sentence case (``rows_read`` -> "Rows read"); a header that is already
words ("ARR at risk", "why (model)") keeps its words, with a capital first letter.
"""

from __future__ import annotations

import re
from typing import Hashable, Mapping

from ..i18n import N_, _

# acronyms and units a sentence-case fallback must keep in capitals
_UPPER = {"arr": "ARR", "mrr": "MRR", "nrr": "NRR", "grr": "GRR", "csm": "CSM", "nps": "NPS", "csat": "CSAT",
          "id": "ID", "ids": "IDs", "ltv": "LTV", "qbr": "QBR", "auc": "AUC", "ci": "CI", "hr": "HR",
          "usd": "USD", "sla": "SLA", "srm": "SRM", "ate": "ATE", "cate": "CATE", "did": "DiD", "kpi": "KPI",
          "crm": "CRM", "url": "URL", "pct": "%", "p": "p"}

HEADERS: Mapping[str, str] = {
    "account_id": N_("Account ID"),
    "account_name": N_("Account"),
    "csm_owner": N_("CSM owner"),
    "owner": N_("Owner"),
    "segment": N_("Segment"),
    "region": N_("Region"),
    "industry": N_("Industry"),
    "plan": N_("Plan"),
    "product": N_("Product"),
    "billing_period": N_("Billing period"),
    "touch_tier": N_("Touch tier"),
    "acquisition_channel": N_("Acquisition channel"),
    "arr": N_("ARR"),
    "mrr": N_("MRR"),
    "arr_at_risk": N_("ARR at risk"),
    "arr_lost": N_("ARR lost"),
    "mrr_lost": N_("MRR lost"),
    "churn_probability": N_("Churn probability"),
    "churn_risk": N_("Churn risk"),
    "churn_rate": N_("Churn rate"),
    "churn_date": N_("Churn date"),
    "renewal_date": N_("Renewal date"),
    "next_renewal": N_("Next renewal"),
    "days_to_renewal": N_("Days to renewal"),
    "months_to_renewal": N_("Months to renewal"),
    "tenure_months": N_("Tenure (months)"),
    "health_score": N_("Health score"),
    "health_band": N_("Health band"),
    "triggers": N_("Triggers"),
    "top_reasons": N_("Top reasons"),
    "reasons": N_("Reasons"),
    "playbook": N_("Playbook"),
    "suggested_touch_tier": N_("Suggested touch tier"),
    "first_flagged": N_("First flagged"),
    "flagged_by": N_("Flagged by"),
    "table": N_("Table"),
    "rows_read": N_("Rows read"),
    "rows_used": N_("Rows used"),
    "rows_rejected": N_("Rows rejected"),
    "first_date": N_("First date"),
    "last_date": N_("Last date"),
    "n_accounts": N_("Accounts"),
    "accounts": N_("Accounts"),
    "churned": N_("Churned"),
    "share": N_("Share"),
    "ci_low": N_("95% CI low"),
    "ci_high": N_("95% CI high"),
    "p_value": N_("p-value"),
    "nps": N_("NPS"),
}

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*$")


def sentence_case(name: str) -> str:
    """``rows_read`` -> "Rows read", ``arr_at_risk`` -> "ARR at risk" (known acronyms kept in capitals)."""
    words = [_UPPER.get(w.lower(), w.lower()) for w in name.split("_") if w]
    if not words:
        return name
    first = words[0]
    words[0] = first if first in _UPPER.values() else first[:1].upper() + first[1:]
    return " ".join(words)


def header(name: Hashable) -> Hashable:
    """The header an HTML table shows for column ``name``, in the run's language. Not a string (a
    MultiIndex level, a number): unchanged."""
    if not isinstance(name, str):
        return name
    if name in HEADERS:
        return _(HEADERS[name])
    if _IDENTIFIER.match(name) and ("_" in name or name.islower()):
        return sentence_case(name)
    first = re.split(r"[^A-Za-z]", name, maxsplit=1)[0]
    # words already: a capital first letter, except a one-letter symbol ("p-value", "n")
    return name[:1].upper() + name[1:] if name[:1].islower() and len(first) > 1 else name


def human_headers(columns) -> dict[Hashable, Hashable]:
    """``{machine: human}`` for ``columns``; a header two columns would share keeps its machine name."""
    shown = {c: header(c) for c in columns}
    seen: dict[Hashable, int] = {}
    for v in shown.values():
        seen[v] = seen.get(v, 0) + 1
    return {c: (v if seen[v] == 1 else c) for c, v in shown.items()}
