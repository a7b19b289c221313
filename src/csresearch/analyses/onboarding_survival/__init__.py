"""Onboarding survival: how long do customers stay, and does a fast time to value keep them?

How long customers stay (Kaplan-Meier with late entry, by onboarding cohort and segment), whether
accounts that reach first value quickly stay longer once segment, plan, billing period, seats and
touch tier are held fixed (a landmark Cox model, free of immortal-time bias), whether onboarding is
getting faster (reaching value as a time-to-event with churn as a competing risk), and the
survival-based lifetime value per segment and cohort.
"""
