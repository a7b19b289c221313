"""The public entry point: ``World`` (the tables plus the truth), ``build_world()`` and the
``_Builder`` that runs every stage (population, simulate, tables_*, truth) in order."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .email_campaign import _EmailCampaignMixin, email_settings
from .helpers import _jsonable, _merge_params
from .params import DEFAULT_PARAMS, TABLE_NAMES
from .population import _PopulationMixin
from .simulate import _SimulateMixin
from .tables_activity import _ActivityTablesMixin
from .tables_outcomes import _OutcomeTablesMixin
from .truth import _TruthMixin
from .vocab import vocab_for, yen_prices


@dataclass
class World:
    """Every contract table plus the JSON-serialisable ground truth."""

    tables: dict[str, pd.DataFrame]
    truth: dict

    def __repr__(self) -> str:  # pragma: no cover - convenience
        sizes = ", ".join(f"{k}={len(v):,}" for k, v in self.tables.items())
        return f"World({sizes})"


def build_world(
    accounts: int = 5000,
    months: int = 36,
    seed: int = 7,
    end_month: str = "2026-10",
    ttv_hazard_ratio: float = 1.8,
    email_experiment: bool | dict | None = None,
    locale: str = "en",
    survey_comments: bool | None = None,
    **overrides,
) -> World:
    """Simulate the world. Same arguments -> identical tables and truth.

    ``overrides`` replace entries of :data:`DEFAULT_PARAMS` (dicts are merged key by key), e.g.
    ``build_world(600, 24, segment_base_monthly_hazard={"SMB": 0.05})``.

    ``email_experiment`` (True, or a dict replacing keys of :data:`EMAIL_EXPERIMENT_DEFAULTS`) adds
    the three-arm e-mail experiment ``exp_email_campaign`` (see ``synth.email_campaign``); without it
    the world is exactly the one it always was.

    ``locale`` ``"ja"`` writes the same world in Japanese (company, CSM, plan, industry and competitor
    names, churn comments, survey answers) and in yen (list prices x ``vocab.JPY_PER_USD``, whole yen):
    the same seed gives the same accounts, events, churns and planted truths; only labels and money
    differ. ``survey_comments`` adds a free-text ``comment`` to the surveys (None: on for ``ja``, off
    for ``en``, whose default world stays the one it always was).
    """
    vocab = vocab_for(locale)
    if accounts < 10:
        raise ValueError("accounts must be >= 10")
    if months < 12:
        raise ValueError("months must be >= 12 (the experiment and adoption study need room)")
    if ttv_hazard_ratio <= 0:
        raise ValueError("ttv_hazard_ratio must be > 0")
    base = DEFAULT_PARAMS
    if vocab.currency == "JPY":  # list prices in yen; an override of them is read in yen too
        base = {**DEFAULT_PARAMS, "list_price_per_seat": yen_prices(DEFAULT_PARAMS["list_price_per_seat"])}
    params = _merge_params(base, overrides)
    params.update(accounts=int(accounts), months=int(months), seed=int(seed), end_month=str(end_month),
                  ttv_hazard_ratio=float(ttv_hazard_ratio))
    if email_experiment:
        params["email_experiment"] = email_settings(email_experiment)
        given = email_experiment if isinstance(email_experiment, dict) else {}
        if vocab.currency == "JPY" and "spend_mean" not in given:
            params["email_experiment"]["spend_mean"] = yen_prices({"spend": params["email_experiment"]["spend_mean"]})["spend"]
    # recorded only when used, so that the default world's truth is the one it always was
    if locale != "en":
        params["locale"] = locale
    if survey_comments or (survey_comments is None and locale != "en"):
        params["survey_comments"] = True
    return _Builder(params).build()


class _Builder(_PopulationMixin, _SimulateMixin, _ActivityTablesMixin, _OutcomeTablesMixin, _TruthMixin,
               _EmailCampaignMixin):
    """One world: each stage sets the state the next one reads; ``build()`` runs them in order."""

    def build(self) -> World:
        self._accounts()
        self._onboarding_latent()
        self._latent_paths()
        self._simulate()
        self._subscriptions_table()
        self._usage()
        self._support()
        self._cs_activities()
        self._surveys()
        self._churn_reasons()
        self._experiments()
        self._onboarding_table()
        self._truth()
        if self.p.get("email_experiment"):
            self._email_experiment()
        tables = {name: self.tables[name] for name in TABLE_NAMES}
        self.truth["sizes"] = {name: int(len(df)) for name, df in tables.items()}
        return World(tables=tables, truth=_jsonable(self.truth))
