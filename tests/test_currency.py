"""Money, months and days in the run's language and currency (issue 18.2), the one-currency rule, and
CSVs Excel opens in Japanese (18.5). Every expected string is written out by hand."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from csresearch import text
from csresearch.analyses.base import ReportSettings
from csresearch.errors import ParameterError
from csresearch.text import MINUS


@pytest.fixture(autouse=True)
def _reset_locale():
    """The locale is run-wide state: every test starts in English dollars and leaves it so."""
    text.use_locale("en", "USD")
    yield
    text.use_locale("en", "USD")


# (language, currency) -> value -> exact, compact
MONEY = {
    ("en", "USD"): {12345.678: ("$12,346", "$12k"), 257_635_500: ("$257,635,500", "$257.6M"),
                    4210: ("$4,210", "$4,210"), -2_576_000: (f"{MINUS}$2,576,000", f"{MINUS}$2.6M")},
    ("en", "EUR"): {12345.678: ("€12,346", "€12k"), 257_635_500: ("€257,635,500", "€257.6M")},
    ("en", "JPY"): {12345.678: ("¥12,346", "¥12k"), 257_635_500: ("¥257,635,500", "¥257.6M"),
                    -2_576_000: (f"{MINUS}¥2,576,000", f"{MINUS}¥2.6M")},
    ("ja", "JPY"): {12345.678: ("12,346円", "12,346円"), 257_635_500: ("257,635,500円", "2.6億円"),
                    25_760_000: ("25,760,000円", "2,576万円"), 350_000: ("350,000円", "35万円"),
                    -2_576_000: (f"{MINUS}2,576,000円", f"{MINUS}258万円"),
                    1.5e12: ("1,500,000,000,000円", "1.5兆円")},
    ("ja", "USD"): {12345.678: ("$12,346", "$12,346"), 257_635_500: ("$257,635,500", "$2.6億"),
                    25_760_000: ("$25,760,000", "$2,576万")},
    ("ja", "EUR"): {257_635_500: ("€257,635,500", "€2.6億")},
}


@pytest.mark.parametrize("key", list(MONEY))
def test_money_exact_and_compact(key):
    text.use_locale(*key)
    for value, (exact, compact) in MONEY[key].items():
        assert text.money(value) == exact, (key, value)
        assert text.money(value, compact=True) == compact, (key, value)


def test_decimals_follow_the_currency():
    """Babel's CLDR precision: cents for dollars and euros, none for yen, whatever the caller asks."""
    assert text.money(3.456, decimals=2) == "$3.46"
    text.use_locale("en", "EUR")
    assert text.money(3.456, decimals=2) == "€3.46"
    text.use_locale("en", "JPY")
    assert text.money(3.456, decimals=2) == "¥3"
    text.use_locale("ja", "JPY")
    assert text.money(1234.5, decimals=2) == "1,234円"  # half to even: 1234.5 -> 1234
    assert text.money(0.4, signed=True) == "0円"        # rounds to zero: no sign on nothing


def test_never_a_dollar_sign_on_yen():
    for language in ("en", "ja"):
        text.use_locale(language, "JPY")
        for value in (-5e9, -1234.0, 0.0, 999.0, 12345.0, 999_999.0, 25_760_000.0, 257_635_500.0, 3e12):
            shown = [text.money(value), text.money(value, compact=True), text.money_tick(value),
                     text.money_tick(value, thousands=True), text.money_edge(value)]
            assert not any("$" in s for s in shown), shown


def test_compact_boundaries():
    """A value that rounds up to the next unit is written in it (never $1000k or 10,000万円)."""
    cases = {("en", "USD"): {9_999: "$9,999", 10_000: "$10k", 999_499: "$999k", 999_500: "$1.0M",
                             999_949_999: "$999.9M", 999_950_000: "$1.0B", 2.5e9: "$2.5B"},
             ("ja", "JPY"): {99_999: "99,999円", 100_000: "10万円", 99_994_999: "9,999万円",
                             99_995_000: "1.0億円", 100_000_000: "1.0億円", 999_949_999_999: "9,999.5億円"}}
    for key, expected in cases.items():
        text.use_locale(*key)
        for value, shown in expected.items():
            assert text.money(value, compact=True) == shown, (key, value)
            assert text.money(-value, compact=True) == MINUS + shown, (key, -value)


def test_signed_money():
    assert text.money(1200, signed=True) == "+$1,200"
    assert text.money(-1200, signed=True) == f"{MINUS}$1,200"
    text.use_locale("ja", "JPY")
    assert text.money(1200, signed=True) == "+1,200円"
    assert text.money(2_576_000, compact=True, signed=True) == "+258万円"


def test_money_intervals():
    assert text.interval(1200, 3400, "money") == "$1,200–$3,400"
    assert text.interval(-1200, 3400, "money", confidence=0.95) == f"95% CI {MINUS}$1,200 to +$3,400"
    assert text.interval(-3400, -1200, "money") == f"{MINUS}$3,400–{MINUS}$1,200"
    text.use_locale("en", "JPY")
    assert text.interval(1200, 3400, "money") == "¥1,200–¥3,400"
    text.use_locale("ja", "JPY")
    assert text.interval(1200, 3400, "money") == "1,200–3,400円"   # the unit once
    assert text.interval(-1200, 3400, "money", confidence=0.9) == f"90%信頼区間 {MINUS}1,200円～+3,400円"
    assert text.interval(-3400, -1200, "money") == f"{MINUS}3,400–{MINUS}1,200円"
    assert text.interval(float("nan"), 3400, "money") == text.MISSING


def test_rate_intervals_and_points_in_japanese():
    assert text.interval(-0.005, 0.004, "points") == f"{MINUS}0.5 to +0.4 pt"
    text.use_locale("ja", "JPY")
    assert text.points(0.004, signed=True) == "+0.4pt"
    assert text.interval(-0.005, 0.004, "points") == f"{MINUS}0.5～+0.4pt"
    assert text.interval(0.023, 0.034, confidence=0.95) == "95%信頼区間 2.3–3.4%"
    assert text.pct(0.028) == "2.8%"
    assert text.count(2_100_000) == "210万"
    assert text.count(1234) == "1,234"


def test_band_labels_and_axis_ticks():
    assert [text.money_edge(x) for x in (500, 1000, 50_000, 1.5e6)] == ["$500", "$1k", "$50k", "$1.5M"]
    assert text.money_band(1000, 5000) == "$1k-5k"
    assert [text.money_tick(x) for x in (-20_000, 500, 1.2e6)] == [f"{MINUS}$20k", "$500", "$1.2M"]
    assert text.money_tick(1_750_000, thousands=True) == "$1,750k"
    text.use_locale("ja", "JPY")
    assert [text.money_edge(x) for x in (1000, 120_000, 6_000_000, 1e8)] == ["1,000円", "12万円", "600万円", "1億円"]
    assert text.money_band(120_000, 600_000) == "12万-60万円"
    assert [text.money_tick(x) for x in (-2_500_000, 5000, 2.5e8)] == [f"{MINUS}250万円", "5,000円", "2.5億円"]
    assert text.money_tick(1_750_000, thousands=True) == "175万円"


def test_months_and_days():
    assert text.month_label("2026-11") == "November 2026"
    assert text.window_label(pd.Period("2026-09"), pd.Period("2026-11")) == "Sep–Nov 2026"
    assert text.window_label(pd.Period("2025-12"), pd.Period("2026-02")) == "Dec 2025–Feb 2026"
    assert text.day("2026-10-05") == "5 Oct 2026"
    text.use_locale("ja", "JPY")
    assert text.month_label("2026-11") == "2026年11月"
    assert text.window_label(pd.Period("2026-11"), pd.Period("2026-11")) == "2026年11月"
    assert text.window_label(pd.Period("2026-09"), pd.Period("2026-11")) == "2026年9月～11月"
    assert text.window_label(pd.Period("2025-12"), pd.Period("2026-02")) == "2025年12月～2026年2月"
    assert text.day("2026-10-05") == "2026年10月5日"


def test_currency_setting():
    assert ReportSettings().currency == "USD"
    assert ReportSettings(currency="jpy").currency == "JPY"
    with pytest.raises(ValueError, match="ISO 4217"):
        ReportSettings(currency="YEN")
    with pytest.raises(ValueError):
        text.use_locale("en", "XYZ")


def test_run_refuses_a_currency_the_data_is_not_in(tmp_path):
    """Yen data with the default currency (USD) is exit 2 with one sentence, before any kernel starts."""
    from csresearch.data.synth import build_world, save_world

    data = save_world(build_world(60, 12, seed=3, end_month="2026-10", locale="ja"), tmp_path / "ja.duckdb")
    from csresearch.data import open_dataset
    from csresearch.notebook.session import check_currency_column

    ds = open_dataset(data)
    try:
        with pytest.raises(ParameterError, match="subscriptions are in JPY"):
            check_currency_column(ds, "USD")
        check_currency_column(ds, "jpy")  # agrees: no error
    finally:
        ds.con.close()
    run = subprocess.run([sys.executable, "-m", "csresearch.cli", "run", "--data", str(data), "--month", "2026-10",
                          "--reports", str(tmp_path / "reports"), "--only", "00_data_overview"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 2, run.stderr
    assert "-p currency=JPY" in " ".join(run.stderr.split())  # rich wraps the line
    assert not (tmp_path / "reports" / "2026-10").exists()


def test_csv_encoding_default_follows_the_language():
    assert text.csv_encoding() == "utf-8"
    assert text.csv_encoding(language="ja") == "utf-8-sig"
    assert text.csv_encoding("utf-8", language="ja") == "utf-8"
    text.use_locale("ja", "JPY")
    assert text.csv_encoding() == "utf-8-sig"
    with pytest.raises(ValueError):
        ReportSettings(csv_encoding="latin-1")


def test_a_japanese_table_starts_with_a_bom_and_round_trips(tmp_path):
    from csresearch.notebook.session import Session

    frame = pd.DataFrame({"会社名": ["株式会社青葉データ", "=1+1"], "MRR": [257_635_500, -4590]})
    ja = Session(notebook="x", output_dir=tmp_path / "ja", month=pd.Period("2026-11"),
                 settings=ReportSettings(language="ja", currency="JPY"))
    ja.table(frame, "accounts")
    raw = (tmp_path / "ja" / "accounts.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                          # the UTF-8 byte-order mark Excel reads
    back = pd.read_csv(tmp_path / "ja" / "accounts.csv", encoding="utf-8-sig")
    assert list(back.columns) == ["会社名", "MRR"]
    assert back["会社名"].tolist() == ["株式会社青葉データ", "'=1+1"]  # the formula guard still applies
    assert back["MRR"].tolist() == [257_635_500, -4590]

    en = Session(notebook="x", output_dir=tmp_path / "en", month=pd.Period("2026-11"),
                 settings=ReportSettings(language="en"))
    en.table(frame, "accounts")
    assert (tmp_path / "en" / "accounts.csv").read_bytes().startswith("会社名".encode())   # no BOM

    forced = Session(notebook="x", output_dir=tmp_path / "forced", month=pd.Period("2026-11"),
                     settings=ReportSettings(language="ja", csv_encoding="utf-8"))
    forced.table(frame, "accounts")
    assert not (tmp_path / "forced" / "accounts.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_value_bands_in_the_runs_currency():
    """The churn decomposition's default bands: the dollar edges, or yen edges for a yen run (the dollar
    edges in yen would put every account of the Japanese demo in the top band)."""
    from csresearch.analyses.churn_decomposition.compute_frame import default_value_bands, value_band

    assert default_value_bands("USD") == (0, 1_000, 5_000, 20_000, 50_000)
    assert default_value_bands("jpy") == (0, 120_000, 600_000, 2_400_000, 6_000_000)
    annual = pd.Series([0, 119_999, 120_000, 2_500_000, 6_000_000])
    text.use_locale("ja", "JPY")
    bands = value_band(annual, default_value_bands("JPY"))
    assert bands.tolist() == ["<12万円", "<12万円", "12万-60万円", "240万-600万円", ">=600万円"]
    text.use_locale("en", "USD")
    assert value_band(pd.Series([999, 1000]), default_value_bands("USD")).tolist() == ["<$1k", "$1k-5k"]
