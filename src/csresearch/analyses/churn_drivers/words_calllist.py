"""Sentences of the call list: who to call (accounts at risk and what "at risk" means here), the view per
CSM owner and the renewals calendar. Split from :mod:`.words` (which re-exports every name) to keep each
module readable; the same rules hold: whole sentences per variant through the catalog, data (account and
owner names) escaped as literal markdown text."""

from __future__ import annotations

import re

import pandas as pd

from ...i18n import _, ngettext, pgettext
from ...text import count, day, money, number, pct
from .compute_calllist import UNASSIGNED
from .words_common import _accounts, _paying, _plural, _sentences, value_label


def _md(text) -> str:
    """Data (an account or owner name) as literal markdown text: every ASCII punctuation character
    backslash-escaped, so a name like ``*x* [y](z)`` shows as typed and never becomes emphasis or a link."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", str(text))


def playbook_name(playbook: str) -> str:
    """A playbook's name for a table cell or a sentence: the words before its first colon ("Renewal
    preparation"; a Japanese playbook's full-width colon too), the whole text when it has no short name
    (the legend under the table spells each one out)."""
    name, _rest = playbook_parts(playbook)
    return name if name else str(playbook)


def playbook_parts(playbook: str) -> tuple[str, str]:
    """(short name, what to do) of a playbook written "Name: what to do" (or "名前：すること"); ("", text)
    when it has no short name of at most 40 characters."""
    text = str(playbook)
    found = re.match(r"^([^:：]{1,40}?)\s*[:：]\s*(.*)$", text, flags=re.S)
    if found and found[1].strip():
        return found[1].strip(), found[2].strip()
    return "", text


def at_risk_definition(result) -> str:
    """What "at risk" means in this report, with the number that draws the line."""
    if result.risk_threshold is None:
        return _("red on the health score (no churn model this month)")
    return _("a {days}-day churn probability of {threshold} or more (1.5 times the churn rate of the observations "
             "the model learned from)").format(days=result.horizon_days, threshold=pct(result.risk_threshold))


def at_risk_sentence(result, top_n: int = 10) -> str:
    """Accounts at risk (likely churners: :func:`at_risk_definition`), then the top of the call list."""
    calls = result.at_risk
    top = calls.head(top_n)
    if top.empty:
        return _("No paying accounts.")
    n, k = len(calls), int(calls["at_risk"].sum())
    flagged = calls[calls["at_risk"]]
    first = top.iloc[0]
    name = _md(first["account_name"] if pd.notna(first["account_name"]) else first["account_id"])
    plays = top["playbook"].map(playbook_name).value_counts()
    common = _("Most common playbook among them: {playbook} ({accounts}).").format(
        playbook=plays.index[0], accounts=_accounts(int(plays.iloc[0])))
    if not result.has_model:
        first_text = ngettext(
            "{k} of {paying} is at risk, meaning {definition} ({arr} ARR). With no churn model the list ranks by the "
            "health score, lowest first; the first is {name} ({first_arr} ARR, score {score}, {band}: {triggers}).",
            "{k} of {paying} are at risk, meaning {definition} ({arr} ARR). With no churn model the list ranks by the "
            "health score, lowest first; the first is {name} ({first_arr} ARR, score {score}, {band}: {triggers}).",
            k).format(k=count(k), paying=_paying(n), definition=at_risk_definition(result),
                      arr=money(float(flagged["arr"].sum()), compact=True), name=name,
                      first_arr=money(first["arr"], compact=True), score=number(first["health_score"], 0),
                      band=value_label("health_band", first["health_band"]), triggers=first["health_triggers"])
        return _sentences(first_text, common)
    risk = float(calls["arr_at_risk"].sum())
    held = float(flagged["arr_at_risk"].sum())
    expected = float(flagged["churn_probability"].sum())
    share = (_(" ({share} of the {risk} ARR at risk)").format(share=pct(held / risk, 0), risk=money(risk, compact=True))
             if risk > 0 else "")
    if k == 0:
        at_risk = _("No paying account is at risk, meaning {definition}.").format(definition=at_risk_definition(result))
    else:
        values = dict(k=count(k), paying=_paying(n), definition=at_risk_definition(result),
                      arr=money(float(flagged["arr"].sum()), compact=True), held=money(held, compact=True),
                      share=share, days=result.horizon_days)
        churners = round(expected)
        if k == 1:
            at_risk = _("{k} of {paying} is at risk, meaning {definition}: {arr} ARR, {held} of it expected to "
                        "churn{share}.").format(**values)
        elif churners < 1:  # the expected number of churners among them: the sum of their probabilities
            at_risk = _("{k} of {paying} are at risk, meaning {definition}: {arr} ARR, {held} of it expected to "
                        "churn{share}; fewer than one of them is expected to churn within {days} days.").format(**values)
        else:
            at_risk = ngettext(
                "{k} of {paying} are at risk, meaning {definition}: {arr} ARR, {held} of it expected to churn{share}; "
                "about {churners} of them is expected to churn within {days} days.",
                "{k} of {paying} are at risk, meaning {definition}: {arr} ARR, {held} of it expected to churn{share}; "
                "about {churners} of them are expected to churn within {days} days.", churners).format(
                churners=count(churners), **values)
    top_text = ngettext(
        "The top {accounts} of the call list carries {loss} of expected ARR loss; the first is {name} ({arr} ARR, "
        "{probability} churn probability: {reasons}).",
        "The top {accounts} of the call list carry {loss} of expected ARR loss; the first is {name} ({arr} ARR, "
        "{probability} churn probability: {reasons}).", len(top)).format(
        accounts=_accounts(len(top)), loss=money(top["arr_at_risk"].sum(), compact=True), name=name,
        arr=money(first["arr"], compact=True), probability=pct(first["churn_probability"], 0),
        reasons=first["top_reasons"])
    return _sentences(at_risk, top_text, common)


def at_risk_caption(result) -> str:
    shown = min(result.settings.at_risk_rows_shown, len(result.at_risk))
    if not result.has_model:
        return _("Top {shown} of {paying} by health score, lowest first (no churn model this month); every account in "
                 "at_risk_accounts.csv").format(shown=shown, paying=_paying(len(result.at_risk)))
    return _("Top {shown} of {paying} by ARR at risk ({days}-day churn probability × ARR); every account in "
             "at_risk_accounts.csv").format(shown=shown, paying=_paying(len(result.at_risk)), days=result.horizon_days)


def _link(result, file: str) -> str:
    """A markdown link from the report page to a file beside it (the page sits next to its folder)."""
    return f"[{file}](<{result.settings.notebook}/{file}>)"


def unassigned_label() -> str:
    """The owner of accounts with no CSM owner, as the report shows it (the CSVs keep ``unassigned``)."""
    translated = pgettext("CSM owner", "unassigned")  # UNASSIGNED
    return UNASSIGNED if translated == UNASSIGNED else translated


def owner_label(owner) -> str:
    return unassigned_label() if str(owner) == UNASSIGNED else str(owner)


def none_label(triggers) -> str:
    """The health-triggers cell of an account with no trigger (the CSVs keep ``none``)."""
    if str(triggers) != "none":
        return triggers
    translated = pgettext("health triggers", "none")
    return "none" if translated == "none" else translated


def owners_sentence(result) -> str:
    """How the call list splits across CSM owners, and who holds the most risk."""
    owners, calls = result.owners, result.at_risk
    if owners.empty:
        return ""
    if (calls["csm_owner"] == UNASSIGNED).all():
        return _("No account has a CSM owner in the accounts table (no `csm_owner` values), so all {paying} are in "
                 "one list, {link}.").format(paying=_paying(len(calls)), link=_link(result, owners["file"].iloc[0]))
    named = owners[owners["csm_owner"] != UNASSIGNED]
    lead = owners.iloc[0]
    amount = (money(lead["arr_at_risk"], compact=True) if result.has_model
              else count(int(lead["at_risk_accounts"])))
    unassigned = int((calls["csm_owner"] == UNASSIGNED).sum())
    gap_text = (ngettext("{accounts} has no CSM owner in the accounts table and is listed as {unassigned}.",
                         "{accounts} have no CSM owner in the accounts table and are listed as {unassigned}.",
                         unassigned).format(accounts=_accounts(unassigned), unassigned=unassigned_label())
                if unassigned else "")
    text = (_("The call list splits across {owners}; the most ARR at risk sits with {owner} ({amount}; {at_risk} of "
              "{accounts} at risk).") if result.has_model else
            _("The call list splits across {owners}; the most accounts at risk sits with {owner} ({amount}; {at_risk} "
              "of {accounts} at risk)."))
    return _sentences(text.format(owners=_plural(len(named), ngettext("{n} CSM owner", "{n} CSM owners", len(named))),
                                  owner=_md(lead["csm_owner"]), amount=amount,
                                  at_risk=count(int(lead["at_risk_accounts"])), accounts=_accounts(int(lead["accounts"]))),
                      gap_text)


def owners_caption(result) -> str:
    text = (_("CSM owners, most ARR at risk first; renewals: term contracts renewing in the next {days} days "
              "(at_risk_by_owner.csv)") if result.has_model else
            _("CSM owners, most accounts at risk first; renewals: term contracts renewing in the next {days} days "
              "(at_risk_by_owner.csv)"))
    return text.format(days=result.renewals_window_days)


def owner_heading(owner: str) -> str:
    return "#### " + _("My accounts: {owner}").format(owner=_md(owner_label(owner)))


def owner_sentence(result, owner: str) -> str:
    """One owner's list in a sentence: accounts, at risk, ARR at risk, renewals due, and the file."""
    row = result.owners.set_index("csm_owner").loc[owner]
    shown = min(result.settings.owner_rows_shown, int(row["accounts"]))
    days = result.renewals_window_days
    due = int(row["renewals_due"])
    renewals = (_plural(due, ngettext("{n} term renewal in the next {days} days ({arr} ARR)",
                        "{n} term renewals in the next {days} days ({arr} ARR)", due), days=days,
                        arr=money(row["arr_renewing"], compact=True)) if due else
        _("no term renewal in the next {days} days").format(days=days))
    link = _link(result, row["file"])
    if shown < row["accounts"]:
        rest = (_("the first {shown} by ARR at risk below; all in {link}") if result.has_model else
                _("the first {shown} by health score, lowest first below; all in {link}")).format(shown=shown, link=link)
    else:
        rest = _("all below and in {link}").format(link=link)
    text = (_("{accounts}, {at_risk} at risk, {risk} ARR at risk; {renewals}: {rest}.") if result.has_model else
            _("{accounts}, {at_risk} at risk; {renewals}: {rest}."))
    return text.format(accounts=_accounts(int(row["accounts"])), at_risk=count(int(row["at_risk_accounts"])),
                       risk=money(row["arr_at_risk"], compact=True) if result.has_model else "",
                       renewals=renewals, rest=rest)


def renewals_sentence(result) -> str:
    """The renewals calendar in a sentence: contracts, ARR, those at risk and the first of them."""
    r, days = result.renewals, result.renewals_window_days
    end = result.as_of + pd.Timedelta(days=days - 1)
    window = _("the next {days} days ({start} to {end})").format(days=days, start=day(result.as_of), end=day(end))
    monthly = int((result.at_risk["billing_period"] == "monthly").sum())
    monthly_text = (ngettext("{accounts} on monthly plans has no renewal date: they can leave at any month end.",
                             "{accounts} on monthly plans have no renewal date: they can leave at any month end.",
                             monthly).format(accounts=_accounts(monthly)) if monthly else "")
    if r.empty:
        return _sentences(_("No term contract renews in {window}.").format(window=window), monthly_text)
    risky = r[r["at_risk"]]
    values = dict(contracts=_plural(len(r), ngettext("{n} term contract", "{n} term contracts", len(r))),
                  arr=money(float(r["arr"].sum()), compact=True), window=window, at_risk=count(len(risky)))
    if len(r) == 1:
        text = ngettext("{contracts} ({arr} ARR) renews in {window}; {at_risk} of them is at risk",
                        "{contracts} ({arr} ARR) renews in {window}; {at_risk} of them are at risk",
                        len(risky)).format(**values)
    else:
        text = ngettext("{contracts} ({arr} ARR) renew in {window}; {at_risk} of them is at risk",
                        "{contracts} ({arr} ARR) renew in {window}; {at_risk} of them are at risk",
                        len(risky)).format(**values)
    if "arr_at_risk" in r and len(risky):
        text = _("{text}, with {risk} ARR at risk").format(text=text,
                                                           risk=money(float(risky["arr_at_risk"].sum()), compact=True))
    if len(risky):
        first = risky.iloc[0]
        name = _md(first["account_name"] if pd.notna(first["account_name"]) else first["account_id"])
        text = _("{text}. The first at-risk renewal is {name} on {date} (owner {owner})").format(
            text=text, name=name, date=day(first["renewal_date"]), owner=_md(owner_label(first["csm_owner"])))
    return _sentences(_("{text}.").format(text=text), monthly_text)


def renewals_caption(result, shown: int, per_week: int = 0) -> str:
    """``per_week``: the table shows that many at-risk renewals of each week, the most ARR at risk (0: all)."""
    r = result.renewals
    risky = int(r["at_risk"].sum()) if len(r) else 0
    if per_week:
        what = (_("{shown} of {at_risk}: the {per_week} with the most ARR at risk in each week") if result.has_model
                else _("{shown} of {at_risk}: the {per_week} with the lowest health score in each week")).format(
            shown=count(shown), at_risk=count(risky), per_week=per_week)
    else:
        what = _("all {at_risk}").format(at_risk=count(risky))
    return _("At-risk renewals in the next {days} days, soonest first, {what} (every renewal in {file}.csv)").format(
        days=result.renewals_window_days, what=what, file=result.renewals_table_name)


def renewal_weeks_caption(result) -> str:
    return _("Term renewals by week, next {days} days (weeks start on Monday; the first and last may be "
             "partial)").format(days=result.renewals_window_days)
