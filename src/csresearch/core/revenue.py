"""Revenue: account-month MRR, MRR movements and paying spells, the one definition of churn.

Every analysis (churn decomposition, survival, drivers, experiments, postmortems) calls these
functions rather than re-deriving churn.

Definitions (the data contract's month-end rule):
- account MRR in month M = sum of ``mrr`` over the account's subscriptions active on M's last day;
- a *churn* is a month end at zero MRR after a month end with MRR > 0;
- ``reactivation_window_days`` (default 0): a zero-MRR gap shorter than this many days is not a
  churn. Its drop to zero is booked as a *contraction* to 0 and the return as an *expansion*, so the
  MRR bridge (start + movements = end) still holds exactly. A gap still open at the end of the data
  that is not yet as long as the window counts as a churn from its first day (*provisional*): if the
  account comes back within the window, a later run restates it as contraction + expansion. We chose
  this over waiting because waiting would hide the most recent churn for ``window`` days and bias the
  latest month's churn rate down.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from ..period import DAYS_PER_MONTH, month_ends

MOVEMENTS = ("new", "expansion", "contraction", "churn", "reactivation", "flat", "inactive")


def _connect() -> duckdb.DuckDBPyConnection:
    """A scratch DuckDB connection for interval joins over subscriptions (no progress bar in reports)."""
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:  # inside Jupyter without ipywidgets DuckDB refuses the setting (and shows no bar)
        pass
    return con



def account_month_mrr(subscriptions: pd.DataFrame, first_month: pd.Period | str,
                      last_month: pd.Period | str) -> pd.DataFrame:
    """MRR per account at the last day of each month (the contract rule), dense from the account's
    first paying month in the window to ``last_month``, zeros included after a churn.

    Returns columns ``account_id``, ``month`` (Period[M]), ``month_end`` (Timestamp), ``mrr``.
    A subscription is active on day d when ``start_date <= d < end_date`` (end exclusive, null = open).
    """
    return _snapshot_mrr(subscriptions, first_month, last_month, offset_days=0)


def _snapshot_mrr(subscriptions: pd.DataFrame, first_month, last_month, offset_days: int = 0) -> pd.DataFrame:
    """Account MRR on each month's snapshot day = month end + ``offset_days`` (0: the contract's month
    end; 1: the first day of the next month, the *Fighting Churn With Data* period boundary)."""
    ends = pd.DataFrame({"month_end": month_ends(first_month, last_month)})
    ends["snapshot"] = ends["month_end"] + pd.Timedelta(days=offset_days)
    subs = subscriptions[["account_id", "start_date", "end_date", "mrr"]]
    con = _connect()
    con.register("subs", subs)
    con.register("ends", ends)
    frame = con.execute(
        """
        WITH active AS (
            SELECT s.account_id, e.month_end, sum(s.mrr) AS mrr
            FROM subs s JOIN ends e
              ON s.start_date <= e.snapshot AND coalesce(s.end_date, TIMESTAMP '2200-01-01') > e.snapshot
            GROUP BY ALL
        ),
        span AS (SELECT account_id, min(month_end) AS first_end FROM active WHERE mrr > 0 GROUP BY ALL)
        SELECT sp.account_id, e.month_end, coalesce(a.mrr, 0.0) AS mrr
        FROM span sp JOIN ends e ON e.month_end >= sp.first_end
        LEFT JOIN active a ON a.account_id = sp.account_id AND a.month_end = e.month_end
        ORDER BY sp.account_id, e.month_end
        """
    ).df()
    con.close()
    frame["month_end"] = pd.to_datetime(frame["month_end"])
    frame.insert(1, "month", frame["month_end"].dt.to_period("M"))
    return frame


# --------------------------------------------------------------------------------------------------
# Paying spells: the one definition of "churned"
# --------------------------------------------------------------------------------------------------
def _paid_intervals(subscriptions: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Day-level intervals [start, end) during which the account pays (MRR > 0), overlapping or
    touching subscriptions merged. ``end`` is NaT when still paying at ``as_of``."""
    subs = subscriptions.loc[subscriptions["mrr"] > 0, ["account_id", "start_date", "end_date"]].copy()
    subs["start_date"] = pd.to_datetime(subs["start_date"])
    subs["end_date"] = pd.to_datetime(subs["end_date"])
    subs = subs[subs["start_date"] <= as_of]
    open_end = pd.Timestamp.max.normalize()
    subs["end"] = subs["end_date"].where(subs["end_date"].notna() & (subs["end_date"] <= as_of), open_end)
    subs = subs.sort_values(["account_id", "start_date", "end"])
    # a new interval starts where the start is after every earlier end of the same account
    running_end = subs.groupby("account_id")["end"].cummax()
    prev_end = running_end.groupby(subs["account_id"]).shift()
    subs["block"] = (prev_end.isna() | (subs["start_date"] > prev_end)).cumsum()
    out = subs.groupby("block").agg(account_id=("account_id", "first"), start=("start_date", "min"),
                                    end=("end", "max")).reset_index(drop=True)
    out.loc[out["end"] == open_end, "end"] = pd.NaT
    return out


def _mrr_on(subscriptions: pd.DataFrame, points: pd.DataFrame) -> np.ndarray:
    """Account MRR on each (account_id, day) of ``points`` (subscriptions active that day)."""
    con = _connect()
    con.register("subs", subscriptions[["account_id", "start_date", "end_date", "mrr"]])
    con.register("pts", points[["account_id", "day"]].reset_index(drop=True).reset_index())
    got = con.execute(
        """
        SELECT p.index, coalesce(sum(s.mrr), 0.0) AS mrr
        FROM pts p LEFT JOIN subs s
          ON s.account_id = p.account_id AND s.start_date <= p.day
         AND coalesce(s.end_date, TIMESTAMP '2200-01-01') > p.day
        GROUP BY p.index ORDER BY p.index
        """
    ).df()
    con.close()
    return got["mrr"].to_numpy(dtype=float)


def paying_spells(subscriptions: pd.DataFrame, as_of: pd.Timestamp | str,
                  reactivation_window_days: int = 0) -> pd.DataFrame:
    """One row per account paying spell: ``account_id``, ``spell`` (1, 2, ...), ``start_date`` (first
    paid day), ``end_date`` (day MRR went to zero; NaT if still paying at ``as_of``), ``churned``
    (bool), ``start_mrr``, ``end_mrr`` (MRR just before the end; MRR on ``as_of`` if still paying),
    plus ``provisional`` (a churn whose gap is still shorter than the window at ``as_of``) and
    ``month_ends_paid`` (month ends inside the spell with MRR > 0; 0 = joined and churned within one
    month, invisible to month-end MRR).

    Subscriptions starting after ``as_of`` are ignored and ends after ``as_of`` are treated as open
    (censored). Subscriptions with ``mrr`` 0 are not paying.

    Consistent with the month-end rule: a day-level gap in paying that does not cover any month end
    is not a churn (the spells merge). With ``reactivation_window_days`` > 0, a gap shorter than the
    window is not a churn either: the spells merge, and :func:`mrr_movements` books the drop to zero
    as a contraction to 0 and the return as an expansion, so the MRR bridge identity still holds.
    A gap still open at ``as_of``: it is a churn if it covers a month end by ``as_of`` (``end_date`` is
    that gap's first day); if it is still shorter than the window it is a *provisional* churn
    (``provisional`` True), restated by a later run if the account comes back within the window.
    A gap that covers no month end by ``as_of`` leaves the spell open (censored at ``as_of``).
    """
    as_of = pd.Timestamp(as_of).normalize()
    window = int(reactivation_window_days or 0)
    columns = ["account_id", "spell", "start_date", "end_date", "churned", "start_mrr", "end_mrr",
               "provisional", "month_ends_paid"]
    iv = _paid_intervals(subscriptions, as_of)
    if iv.empty:
        return pd.DataFrame(columns=columns)
    # the gap after each interval: [end, next start) or [end, as_of + 1 day) when nothing follows
    iv["next_start"] = iv.groupby("account_id")["start"].shift(-1)
    gap_end = iv["next_start"].fillna(as_of + pd.Timedelta(days=1))
    first_month_end = iv["end"] + pd.offsets.MonthEnd(0)
    covers_month_end = iv["end"].notna() & (first_month_end < gap_end)
    gap_days = (gap_end - iv["end"]).dt.days
    trailing = iv["next_start"].isna()
    long_enough = gap_days >= window
    breaks = covers_month_end & (long_enough | trailing)
    iv["provisional"] = breaks & trailing & ~long_enough
    # a spell ends at each breaking gap; intervals after a non-breaking gap join the spell before
    new_spell = breaks.groupby(iv["account_id"]).shift(fill_value=True)
    iv["spell_key"] = new_spell.cumsum()
    spells = iv.groupby("spell_key").agg(
        account_id=("account_id", "first"), start_date=("start", "min"), last_end=("end", "last"),
        provisional=("provisional", "last"),
    ).reset_index(drop=True)
    spells["churned"] = breaks.groupby(iv["spell_key"]).last().to_numpy()
    spells["end_date"] = spells["last_end"].where(spells["churned"])
    spells["spell"] = spells.groupby("account_id").cumcount() + 1
    subs = subscriptions.loc[subscriptions["mrr"] > 0].copy()
    subs["start_date"] = pd.to_datetime(subs["start_date"])
    subs["end_date"] = pd.to_datetime(subs["end_date"])
    subs = subs[subs["start_date"] <= as_of]
    subs.loc[subs["end_date"] > as_of, "end_date"] = pd.NaT
    spells["start_mrr"] = _mrr_on(subs, spells.assign(day=spells["start_date"]))
    last_day = (spells["end_date"] - pd.Timedelta(days=1)).fillna(as_of)
    spells["end_mrr"] = _mrr_on(subs, spells.assign(day=last_day))
    # month ends inside the spell at which the account pays (merged gaps may hold zero month ends)
    ends = pd.DataFrame({"month_end": month_ends(spells["start_date"].min().to_period("M"), as_of.to_period("M"))})
    ends = ends[ends["month_end"] <= as_of]
    con = _connect()
    con.register("subs", subs[["account_id", "start_date", "end_date", "mrr"]])
    con.register("ends", ends)
    con.register("sp", spells[["account_id", "start_date", "end_date"]].reset_index())
    paid = con.execute(
        """
        WITH paid AS (
            SELECT DISTINCT s.account_id, e.month_end FROM subs s JOIN ends e
              ON s.start_date <= e.month_end AND coalesce(s.end_date, TIMESTAMP '2200-01-01') > e.month_end
        )
        SELECT sp.index, count(p.month_end) AS n FROM sp LEFT JOIN paid p
          ON p.account_id = sp.account_id AND p.month_end >= sp.start_date
         AND p.month_end < coalesce(sp.end_date, TIMESTAMP '2200-01-01')
        GROUP BY sp.index ORDER BY sp.index
        """
    ).df()
    con.close()
    spells["month_ends_paid"] = paid["n"].to_numpy(dtype=int)
    spells["churned"] = spells["churned"].astype(bool)
    spells["provisional"] = spells["provisional"].astype(bool) & spells["churned"]
    return spells[columns].sort_values(["account_id", "spell"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------------
# Movements
# --------------------------------------------------------------------------------------------------
def _short_gap_months(frame: pd.DataFrame, window: int, subscriptions: pd.DataFrame | None) -> pd.Series:
    """True for zero-MRR account months inside a gap that is not a churn (shorter than the window)."""
    zero = frame["mrr"] <= 0
    if window <= 0 or not zero.any():
        return pd.Series(False, index=frame.index)
    if subscriptions is not None:
        spells = paying_spells(subscriptions, frame["month_end"].max(), window)
        con = _connect()
        con.register("f", frame.loc[zero, ["account_id", "month_end"]].reset_index())
        con.register("sp", spells[["account_id", "start_date", "end_date"]])
        inside = con.execute(
            """
            SELECT DISTINCT f.index FROM f JOIN sp
              ON sp.account_id = f.account_id AND sp.start_date <= f.month_end
             AND f.month_end < coalesce(sp.end_date, TIMESTAMP '2200-01-01')
            """
        ).df()["index"]
        con.close()
        return frame.index.isin(inside)
    # month-level approximation: a run of k zero month ends between paying months lasts ~k*30 days
    account = frame["account_id"]
    run_id = (zero != zero.groupby(account).shift()).cumsum()
    run_len = zero.groupby(run_id).transform("sum")
    followed_by_pay = (~zero).groupby(account).shift(-1, fill_value=False).astype(bool)
    run_returns = followed_by_pay.groupby(run_id).transform("max")
    return zero & run_returns & (run_len * DAYS_PER_MONTH < window)


def mrr_movements(account_months: pd.DataFrame, reactivation_window_days: int = 0,
                  subscriptions: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`account_month_mrr` output plus ``prev_mrr`` (the month before; 0 before the account's
    first row) and ``movement`` in {new, expansion, contraction, churn, reactivation, flat, inactive}.

    new: 0 to >0 the first time; reactivation: 0 to >0 after an earlier churn; expansion / contraction:
    up / down and still >0; churn: >0 to 0; flat: unchanged >0; inactive: 0 and 0.
    Start ``account_months`` at the beginning of the history (or use :func:`movements`), otherwise
    accounts already paying in its first month count as new.

    ``reactivation_window_days`` > 0: a zero-MRR gap shorter than the window is not a churn; the drop
    is a contraction to 0, the months at zero inside it are inactive, and the return is an expansion
    (so the bridge identity holds). Gap lengths are measured in days from ``subscriptions`` when given,
    through :func:`paying_spells`, so both agree; otherwise a run of k zero month ends is taken to last
    k x 30 days. A gap still open at the last month is a (provisional) churn: see :func:`paying_spells`.
    Same-month join-and-churn accounts never have MRR at a month end and so never appear here.
    """
    frame = account_months.sort_values(["account_id", "month_end"]).reset_index(drop=True).copy()
    frame["prev_mrr"] = frame.groupby("account_id")["mrr"].shift(fill_value=0.0)
    short_gap = _short_gap_months(frame, int(reactivation_window_days or 0), subscriptions)
    prev_short = pd.Series(short_gap, index=frame.index).groupby(frame["account_id"]).shift(fill_value=False)
    mrr, prev = frame["mrr"], frame["prev_mrr"]
    up, down = mrr > prev, mrr < prev
    dropped = (prev > 0) & (mrr <= 0)
    is_churn = dropped & ~short_gap
    churns_so_far = is_churn.astype(int).groupby(frame["account_id"]).cumsum()
    earlier_churn = (churns_so_far - is_churn.astype(int)) > 0
    returned = (prev <= 0) & (mrr > 0)
    movement = np.select(
        [
            returned & prev_short,
            returned & earlier_churn,
            returned,
            is_churn,
            dropped,
            (prev > 0) & up,
            (prev > 0) & down,
            mrr > 0,
        ],
        ["expansion", "reactivation", "new", "churn", "contraction", "expansion", "contraction", "flat"],
        default="inactive",
    )
    frame["movement"] = movement
    return frame


CONVENTIONS = ("month_end", "period_start")
ANNUALISATIONS = ("compounded", "simple")


def movements(subscriptions: pd.DataFrame, first_month: pd.Period | str, last_month: pd.Period | str,
              reactivation_window_days: int = 0, convention: str = "month_end") -> pd.DataFrame:
    """Account-month MRR and movements for ``first_month``..``last_month``, computed over the whole
    subscription history so that new, reactivation and the first month's ``prev_mrr`` are right.

    ``convention``: ``month_end`` (the contract: ``prev_mrr`` and ``mrr`` on the last days of M-1 and M)
    or ``period_start`` (*Fighting Churn With Data*: on the first days of M and M+1; no reactivation
    window, as in the book's code).
    """
    _check_choice("convention", convention, CONVENTIONS)
    first, last = pd.Period(first_month, "M"), pd.Period(last_month, "M")
    history_start = min(pd.Timestamp(subscriptions["start_date"].min()).to_period("M"), first - 1)
    if convention == "month_end":
        months = account_month_mrr(subscriptions, history_start, last)
        moved = mrr_movements(months, reactivation_window_days, subscriptions=subscriptions)
    else:
        months = _snapshot_mrr(subscriptions, history_start, last, offset_days=1)
        moved = mrr_movements(months, 0)
    return moved[moved["month"] >= first].reset_index(drop=True)


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")

