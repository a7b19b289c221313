"""Churn drivers: which paying accounts will churn, why, how far the health score can be trusted,
and whom should a CSM call first (and where to grow)?

Point-in-time observations and the risk model live in :mod:`csresearch.core.risk`, the health score
in :mod:`csresearch.core.health`; this package backtests the model, ranks the drivers, compares
behavioural cohorts, validates the health score against realised churn and lists the accounts to call
and the expansion candidates (notebooks/03_churn_drivers.ipynb).
"""
