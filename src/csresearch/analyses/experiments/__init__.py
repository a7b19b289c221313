"""Experiments and uplift: did a CS or product intervention work, for whom, and whom should we treat?

One readout per experiment running in the report month or recently ended, in the order a sceptical
reader asks: design checks, average effects with intervals, each treatment arm against the control
(Holm-adjusted across arms; CUPED, the effect on the exposed when exposure is recorded, churn per
arm; outcomes of retention, usage, expansion or events counted after assignment), naive-versus-
adjusted estimates for non-randomised adoption studies, heterogeneous effects and targeting for
randomised ones, and what the sample could detect.

    settings.py          Settings; per-experiment settings (Experiment) validated
    compute_design.py    the month's experiments, one frame per experiment, design checks
    compute_arms.py      the comparisons with the control, effect rows per outcome, Holm, each arm's own outcome
    compute_effects.py   average effects, CUPED, IV, power/MDE, survival per arm
    compute_adoption.py  not randomised: DiD and event study, IPW, doubly robust
    compute_uplift.py    uplift models, Qini, top k%, effects by segment, targeting and ROI
    compute_readout.py   one experiment's readout (Readout), the month's readouts
    result.py            Result: readouts, CSV tables, summary.json values
    words_effects.py     one effect in its unit with the decimals its interval needs, its verdict, "cannot be measured"
    words.py             sentences, headline, conventions, KPIs
    views.py             display tables and one experiment's section as blocks
    charts.py            the charts
    report.py            build(ds, month, settings) -> Result
"""
