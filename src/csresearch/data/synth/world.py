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
    **overrides,
) -> World:
    """Simulate the world. Same arguments -> identical tables and truth.

    ``overrides`` replace entries of :data:`DEFAULT_PARAMS` (dicts are merged key by key), e.g.
    ``build_world(600, 24, segment_base_monthly_hazard={"SMB": 0.05})``.

    ``email_experiment`` (True, or a dict replacing keys of :data:`EMAIL_EXPERIMENT_DEFAULTS`) adds
    the three-arm e-mail experiment ``exp_email_campaign`` (see ``synth.email_campaign``); without it
    the world is exactly the one it always was.
    """
    if accounts < 10:
        raise ValueError("accounts must be >= 10")
    if months < 12:
        raise ValueError("months must be >= 12 (the experiment and adoption study need room)")
    if ttv_hazard_ratio <= 0:
        raise ValueError("ttv_hazard_ratio must be > 0")
    params = _merge_params(DEFAULT_PARAMS, overrides)
    params.update(accounts=int(accounts), months=int(months), seed=int(seed), end_month=str(end_month),
                  ttv_hazard_ratio=float(ttv_hazard_ratio))
    if email_experiment:
        params["email_experiment"] = email_settings(email_experiment)
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
