"""Churn decomposition: how much revenue and how many customers do we lose, where, and what drove
the change?

The MRR bridge (start + new + expansion + reactivation + contraction + churn = end, in cents), logo
and revenue churn with their intervals over trailing windows, churn by segment with corrected
flags, cohort retention, and the mix-vs-rate split of the change between two windows. Churn itself
is :mod:`csresearch.core.revenue`'s one definition.
"""
