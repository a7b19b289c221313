"""Churn postmortem: what did we lose, why, did we see it coming, and what do we change?

One review covers either every churn of a month or a few named accounts (``account_ids``). It builds
on the shared definitions and never re-derives them: churn and paying spells come from
:mod:`csresearch.core.revenue`, point-in-time features from :mod:`csresearch.core.features`, the
health score from :mod:`csresearch.core.health` and the risk model and at-risk list from
:mod:`csresearch.core.risk`.
"""
