"""`csresearch synth | validate | run | list`: the command line of the workbook."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import CsresearchError
from .report.params import parse_override
from .report.paths import project_root

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Customer-success research workbook: build a demo world, validate data, run the monthly reports.")
console = Console(stderr=True)


@app.command()
def synth(
    out: Optional[Path] = typer.Option(None, help=(
        "a .duckdb file, or a folder for Parquet/CSV (default: data/demo.duckdb, data/demo_ja.duckdb for --locale ja)")),
    accounts: int = typer.Option(5000, help="number of accounts"),
    months: int = typer.Option(36, help="months of history"),
    seed: int = typer.Option(7, help="random seed: the same seed gives the same world"),
    end_month: Optional[str] = typer.Option(None, help="last month of the world, YYYY-MM (default: last complete month)"),
    ttv_hazard_ratio: float = typer.Option(1.8, help="planted churn hazard ratio of slow time to value (1 = no effect)"),
    fmt: Optional[str] = typer.Option(None, "--format", help="parquet or csv when OUT is a folder"),
    email_experiment: bool = typer.Option(False, help="add a three-arm randomised e-mail experiment"),
    locale: str = typer.Option("en", help=(
        "en, or ja: the same world (same seed, same accounts, events and planted truths) with Japanese names, "
        "plans, churn comments and survey answers, and yen prices; report it with -p language=ja -p currency=JPY")),
):
    """Build the synthetic B2B SaaS world with planted truths (written beside it as JSON)."""
    import time

    from .data.synth import build_world, save_world
    from .data.synth.vocab import LOCALES

    if locale not in LOCALES:
        console.print(f"[red]error:[/red] --locale {locale!r}: choose one of {', '.join(LOCALES)}")
        raise typer.Exit(2)
    if out is None:
        out = Path("data/demo.duckdb" if locale == "en" else f"data/demo_{locale}.duckdb")

    started = time.perf_counter()
    from .period import resolve_month

    world = build_world(accounts=accounts, months=months, seed=seed, end_month=str(resolve_month(end_month)),
                        ttv_hazard_ratio=ttv_hazard_ratio, locale=locale,
                        **({"email_experiment": True} if email_experiment else {}))
    path = save_world(world, out, fmt=fmt)
    sizes = ", ".join(f"{k} {len(v):,}" for k, v in world.tables.items())
    console.print(f"wrote {path} in {time.perf_counter() - started:.1f}s: {sizes}")


@app.command()
def validate(
    data: Optional[str] = typer.Argument(None, help="folder, .duckdb file or postgresql:// URL"),
    data_option: Optional[str] = typer.Option(None, "--data", help="the same as DATA (as `run --data`)"),
    mapping: Optional[Path] = typer.Option(None, help="column-mapping YAML"),
    reject_invalid_rows: bool = typer.Option(False, help="count and drop rows that break row rules"),
    engine: Optional[str] = typer.Option(None, help="duckdb (default) or spark"),
):
    """Check DATA against the contract; print rows read, used and rejected per table."""
    from .data import validate as validate_data
    from .data.load import refuse_credentials

    data = data or data_option
    if not data:
        console.print("[red]invalid:[/red] name the data to check: csresearch validate DATA (or --data DATA)")
        raise typer.Exit(2)
    try:
        refuse_credentials(data)
        quality = validate_data(data, mapping=mapping, reject_invalid_rows=reject_invalid_rows, engine=engine)
    except CsresearchError as exc:  # the data breaks the contract or cannot be read: exit 2, named
        console.print(f"[red]invalid:[/red] {exc}")
        raise typer.Exit(exc.exit_code)
    table = Table("table", "rows read", "used", "rejected", "reasons")
    for row in quality.itertuples():
        table.add_row(row.table, f"{row.rows_read:,}", f"{row.rows_used:,}", f"{row.rows_rejected:,}", row.reasons)
    Console().print(table)
    console.print("[green]valid[/green]: the data meets the contract")


@app.command()
def run(
    month: Optional[str] = typer.Option(None, help="report month YYYY-MM (default: params, else last complete month)"),
    data: Optional[str] = typer.Option(None, help="folder, .duckdb file or postgresql:// URL"),
    engine: Optional[str] = typer.Option(None, help="duckdb (default) or spark (a Parquet folder read by Spark)"),
    only: List[str] = typer.Option([], help="run only this notebook (repeatable)"),
    param: List[str] = typer.Option([], "--param", "-p", help="override a parameter: key=value"),
    jobs: Optional[int] = typer.Option(None, help="notebooks executed at once"),
    reports: Optional[Path] = typer.Option(None, help="reports folder (default: reports/)"),
):
    """Execute the month's notebooks, render HTML and write reports/<month>/index.html."""
    from .report.run import run_month

    try:
        overrides = dict(parse_override(p) for p in param)
        if engine:
            overrides["engine"] = engine
        ok, folder = run_month(month=month, data=data, only=list(only) or None, overrides=overrides,
                               reports_dir=reports, jobs=jobs, progress=console.print)
    except CsresearchError as exc:  # bad data, parameters or settings: one sentence, no traceback
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code)
    raise typer.Exit(0 if ok else 1)


health_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The health score.")
app.add_typer(health_app, name="health")


@health_app.command("suggest")
def health_suggest(
    month: Optional[str] = typer.Option(None, help="fit on data up to this month, YYYY-MM (default: the last complete one)"),
    data: Optional[str] = typer.Option(None, help="folder, .duckdb file or postgresql:// URL (default: params)"),
    current: Optional[Path] = typer.Option(None, help="the current health-score file (default: the project's)"),
):
    """Print the health-score file with the weights the drivers report suggests:
    `csresearch health suggest > params/health_score.yml`."""
    from .analyses.churn_drivers.suggest import suggest
    from .data import open_dataset
    from .data.load import default_data_path, refuse_credentials
    from .period import resolve_month
    from .report.params import defaults
    from .report.paths import resolve_path

    root = project_root()
    try:
        shared = defaults(root)
        source = data or shared.get("data") or default_data_path()
        refuse_credentials(source)
        ds = open_dataset(resolve_path(source, root) or source)
        covered = ds.data_coverage(shared.get("data_as_of"))
        period = resolve_month(month) if month else covered.last_complete_month
        covered.check(period)
        path = current or root / (shared.get("health_score_file") or "params/health_score.yml")
        text = suggest(ds, period, health_config=path)
    except CsresearchError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(exc.exit_code)
    sys.stdout.write(text)


@app.command("list")
def list_notebooks(
    notebook: Optional[str] = typer.Argument(None, help="show this notebook's settings in full"),
):
    """The report notebooks and their settings (names, defaults and what they mean)."""
    from .analyses import settings_for
    from .report.run import available_notebooks, declared_parameters

    root = project_root()
    if notebook is None:
        table = Table("notebook", "report", "settings")
        for name in available_notebooks(root):
            model = settings_for(name)
            keys = model.own_keys() if model else tuple(declared_parameters(root / "notebooks" / f"{name}.ipynb"))
            table.add_row(name, model.title if model else "", ", ".join(keys))
        Console().print(table)
        return
    model = settings_for(notebook)
    if model is None:
        console.print(f"[red]error:[/red] no analysis settings for {notebook!r}; see `csresearch list`")
        raise typer.Exit(2)
    table = Table("setting", "default", "meaning", title=f"{notebook}: {model.title}")
    for key, info in model.model_fields.items():
        table.add_row(key, repr(info.get_default(call_default_factory=True)), info.description or "")
    Console().print(table)


def main() -> None:  # pragma: no cover
    sys.exit(app())


if __name__ == "__main__":  # pragma: no cover
    main()
