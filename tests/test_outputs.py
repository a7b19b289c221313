"""What the reports write: CSVs a spreadsheet opens safely (no cell runs as a formula, numbers stay
numbers), and the switch that turns the guard off for BI loaders."""

from __future__ import annotations

import pandas as pd

from csresearch.analyses.data_overview.settings import Settings
from csresearch.notebook.session import Session, neutralise_formulas


def test_formula_leading_text_cells_are_neutralised_and_numbers_are_not():
    frame = pd.DataFrame({
        "name": ["=HYPERLINK(\"http://x\")", "+1 555", "-minus", "@SUM(A1)", "\tTab", "\rCR", "plain", None, "a=b"],
        "mrr": [-5.0, 1.0, -0.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "count": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
    })
    out = neutralise_formulas(frame)
    assert out["name"].tolist() == ["'=HYPERLINK(\"http://x\")", "'+1 555", "'-minus", "'@SUM(A1)", "'\tTab", "'\rCR",
                                    "plain", None, "a=b"]
    assert out["mrr"].tolist() == frame["mrr"].tolist() and out["count"].dtype == frame["count"].dtype
    assert frame["name"].iloc[0].startswith("="), "the frame passed in is not changed"


def test_session_tables_are_guarded_unless_switched_off(tmp_path):
    frame = pd.DataFrame({"account_name": ["=cmd|' /C calc'!A0", "Acme"], "arr": [-1200.0, 300.0]})
    guarded = Session("00_data_overview", tmp_path / "on", pd.Period("2026-10", "M"), settings=Settings())
    guarded.table(frame, "accounts")
    written = pd.read_csv(tmp_path / "on" / "accounts.csv")
    assert written["account_name"].tolist() == ["'=cmd|' /C calc'!A0", "Acme"]
    assert written["arr"].tolist() == [-1200.0, 300.0]
    raw = Session("00_data_overview", tmp_path / "off", pd.Period("2026-10", "M"),
                  settings=Settings(csv_formula_guard=False))
    raw.table(frame, "accounts")
    assert pd.read_csv(tmp_path / "off" / "accounts.csv")["account_name"].iloc[0] == "=cmd|' /C calc'!A0"


def test_summary_json_never_holds_nan(tmp_path):
    import json

    import numpy as np

    session = Session("00_data_overview", tmp_path, pd.Period("2026-10", "M"), settings=Settings())
    session.record(rate=float("nan"), nested={"low": np.float64("inf"), "items": [1.5, np.nan]}, ok=0.25)
    text = session.save().read_text()

    def refuse(constant):
        raise AssertionError(f"{constant} in summary.json")

    data = json.loads(text, parse_constant=refuse)
    assert data["rate"] is None and data["nested"] == {"low": None, "items": [1.5, None]} and data["ok"] == 0.25


def test_an_estimate_without_a_relative_change_says_why():
    from csresearch.analyses.experiments.result import NO_RELATIVE, _observational_record

    usage = {"outcome": "usage", "estimate": 14.4, "relative": 0.21, "relative_low": 0.16, "relative_high": 0.27}
    retention = {"outcome": "365-day retention", "estimate": 0.10, "relative": float("nan"),
                 "relative_low": float("nan"), "relative_high": float("nan")}
    assert _observational_record(usage) == usage
    assert _observational_record(retention) == {"outcome": "365-day retention", "estimate": 0.10,
                                                "relative_not_reported": NO_RELATIVE}
