"""The ``fleetspend`` command: database, demo data, usage import and the app itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import click

from fleetspend import db, embedded, schema
from fleetspend.sqlfiles import SqlFolder

_STATEMENTS = SqlFolder(Path(__file__).resolve().parent / "sql" / "cli")


@click.group()
def main() -> None:
    """fleetspend: usage and spend analytics for a fleet of machines.

    Uses DATABASE_URL when set, else the embedded default PostgreSQL (started on demand and
    stopped again when the command ends).
    """


@main.group(name="db")
def db_group() -> None:
    """Migrations and the embedded default server."""


@db_group.command()
@click.option("--revision", default="head", show_default=True)
def upgrade(revision: str) -> None:
    """Apply the migrations up to REVISION."""
    schema.upgrade(db.primary_engine(), revision)
    click.echo(f"database at revision {schema.current_revision(db.primary_engine())}")


@db_group.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Revert the migrations down to REVISION ('base' removes everything)."""
    schema.downgrade(db.primary_engine(), revision)
    click.echo(f"database at revision {schema.current_revision(db.primary_engine())}")


@db_group.command()
def stop() -> None:
    """Stop the embedded default server if it is running."""
    server = embedded.default_server()
    server.stop()
    click.echo(f"embedded PostgreSQL in {server.data_dir} is stopped")


def _terminal_progress(description: str):
    """A progress callback drawing a tqdm bar; returns (callback, bar)."""
    from tqdm import tqdm

    # the step in progress is the bar's description, shown after it (a postfix would start
    # with tqdm's ", ")
    bar = tqdm(total=100, bar_format=description + " {percentage:3.0f}%|{bar:30}| {desc}")

    def report(fraction: float, message: str) -> None:
        bar.n = round(100 * fraction)
        bar.set_description_str(message, refresh=False)
        bar.refresh()

    return report, bar


@main.command()
@click.option("--scale", type=click.Choice(["small", "demo", "large"]), default="demo",
              show_default=True)
@click.option("--seed", "seed_value", type=int, default=1, show_default=True,
              help="Random seed: the same seed and scale give the same rows.")
@click.option("--discard-existing-data", is_flag=True,
              help="Throw-away test databases only: replace data the seed did not create, "
                   "finalized invoices included.")
def seed(scale: str, seed_value: int, discard_existing_data: bool) -> None:
    """Replace all data with deterministic demo data at SCALE (demo and large: invoiced).

    Refuses a database holding organizations or finalized invoices it did not create."""
    from fleetspend.seed import SeedRefusedError, generate

    engine = db.primary_engine()
    schema.upgrade(engine)
    report, bar = _terminal_progress(f"seeding {scale}")
    try:
        with bar:
            summary = generate(engine, scale=scale, seed=seed_value, progress=report,
                               discard_existing_data=discard_existing_data)
    except SeedRefusedError as error:
        raise click.ClickException(str(error)) from None
    click.echo(summary.describe())


@main.command()
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--watch", is_flag=True,
              help="PATH is a folder: keep watching it, importing files as they arrive.")
@click.option("--interval", type=click.FloatRange(min=0.1), default=1.0, show_default=True,
              help="Seconds between looks at the watched folder.")
@click.option("--alerts", "run_alerts", is_flag=True,
              help="PATH is a folder: after each file imported, run `fleetspend alerts run` "
                   "in the background (docs/alerts.md).")
def ingest(path: Path, watch: bool, interval: float, run_alerts: bool) -> None:
    """Import accounts, lifecycle events and metered usage from a CSV or JSON Lines file, or a
    folder (docs/import-format.md).

    A folder's .csv and .jsonl files are imported in name order, each once by content, and
    moved to done/ or failed/ (with NAME.errors.txt); see docs/feed.md. Exits non-zero when
    a file failed or was left in the folder.
    """
    from fleetspend import feed
    from fleetspend.ingest import IngestError, ingest_file

    engine = db.primary_engine()
    if path.is_dir():
        after_import = None
        if run_alerts:
            from fleetspend.alerts.run import AfterImports

            after_import = AfterImports(engine, click.echo)
        if watch:
            stop = threading.Event()
            for signal_number in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signal_number, lambda *_: stop.set())
            feed.watch(engine, path, interval, click.echo, stop, after_import)
            return
        outcomes = feed.feed_folder(engine, path, click.echo, after_import=after_import)
        if after_import is not None:
            after_import.wait_idle()
        if any(outcome.outcome in ("failed", "retry") for outcome in outcomes):
            sys.exit(1)
        return
    if watch or run_alerts:
        raise click.UsageError("--watch and --alerts need a folder")
    try:
        result = ingest_file(engine, path)
    except IngestError as error:
        click.echo(str(error), err=True)
        sys.exit(1)
    click.echo(result.describe())


@main.group(name="alerts")
def alerts_group() -> None:
    """Budgets' alerts and anomalies: evaluation and delivery (docs/alerts.md)."""


@alerts_group.command(name="run")
@click.option("--no-deliver", is_flag=True,
              help="Evaluate only; leave the new alerts' emails and webhooks queued.")
def alerts_run(no_deliver: bool) -> None:
    """Evaluate every organization's budgets and anomalies (each alert fires once, so any
    number of runs is safe), then send the emails and webhooks that are due. Exits 1 when an
    organization could not be evaluated (the others are)."""
    from fleetspend.alerts.run import run_alerts

    evaluation = run_alerts(db.primary_engine(), click.echo, deliver=not no_deliver)
    if evaluation.failed:
        sys.exit(1)


@main.command()
@click.option("--full", is_flag=True,
              help="Recompute every day with usage, not only the days that changed.")
def rollup(full: bool) -> None:
    """Bring the usage rollups up to date with the usage tables."""
    from fleetspend import rollups

    click.echo(rollups.refresh(db.primary_engine(), full=full).describe())


def _has_data() -> bool:
    with db.primary_engine().connect() as connection:
        return bool(connection.execute(_STATEMENTS.sql("any_organization")).scalar())


# the signals that stop `fleetspend demo`: Ctrl+C, a service manager's or container runtime's
# stop, and a closed terminal
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
STREAMLIT_STOP_TIMEOUT_S = 20


def _stop_on_signals() -> None:
    """Turn every stop signal into KeyboardInterrupt, so that the command unwinds: the seed's
    transaction rolls back, Streamlit is stopped and the embedded server with it (atexit)."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.default_int_handler)


def _serve(command: list[str], env: dict[str, str]) -> int:
    """Run Streamlit until it exits (its exit code) or a stop signal arrives (0), then stop
    it and wait for it.

    Streamlit runs in a session of its own, so a signal reaches it only through this command
    (never twice); its process ends before the embedded server it reads from is stopped.
    """
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        return process.wait()
    except KeyboardInterrupt:
        click.echo("stopping fleetspend")
        return 0
    finally:
        for stop_signal in STOP_SIGNALS:  # a second Ctrl+C must not cut the shutdown short
            signal.signal(stop_signal, signal.SIG_IGN)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STREAMLIT_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@main.command()
@click.option("--port", default=8501, show_default=True,
              help="The port to serve the app on (STREAMLIT_SERVER_PORT does not apply).")
@click.option("--address", default="127.0.0.1", show_default=True,
              help="The address to listen on; 0.0.0.0 serves every network this machine is on.")
@click.option("--headless/--browser", default=True, show_default=True,
              help="Whether Streamlit should leave opening a browser to you.")
def demo(port: int, address: str, headless: bool) -> None:
    """Migrate, load the demo data if the database is empty, and run the app.

    On the embedded database the app runs in demo mode (pick a seeded person to be). SIGINT
    (Ctrl+C), SIGTERM and SIGHUP stop the app and the embedded server this command started.
    """
    _stop_on_signals()
    engine = db.primary_engine()
    schema.upgrade(engine)
    # the embedded demo lets visitors pick a seeded person instead of signing in; against a
    # configured DATABASE_URL demo mode stays as FLEETSPEND_DEMO_MODE says
    demo_mode = {} if os.environ.get("DATABASE_URL") else {"FLEETSPEND_DEMO_MODE": "1"}
    if {**os.environ, **demo_mode}.get("FLEETSPEND_DEMO_MODE", "").strip().lower() in (
            "1", "true"):
        from fleetspend.seed import dataset

        with engine.connect() as connection:
            if dataset.holds_real_data(connection):
                raise click.ClickException(
                    "demo mode is on, but this database holds organizations or invoices that "
                    "fleetspend seed did not create; demo mode refuses to run on real data. "
                    "Unset FLEETSPEND_DEMO_MODE and sign in through OpenID Connect.")
    if not _has_data():
        from fleetspend.seed import generate

        report, bar = _terminal_progress("loading demo data")
        with bar:
            generate(engine, scale="demo", seed=1, progress=report)
    # serve.py: app.py with Streamlit's bundles sent gzip-compressed (fleetspend/ui/assets.py)
    app = schema.PROJECT_ROOT / "serve.py"
    env = {**os.environ, "DATABASE_URL": db.primary_url(), **demo_mode}
    click.echo(f"fleetspend is starting on http://{address}:{port} (Ctrl+C stops it)")
    # Streamlit's own welcome lists network URLs and, headless, looks up this machine's
    # external IP on the internet (offline: "Did not auto detect external IP"); ours suffices
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
               "--server.address", address, "--server.headless", str(headless).lower(),
               "--logger.hideWelcomeMessage", "true"]
    code = _serve(command, env)
    if code:
        sys.exit(code)


@main.group(name="invoice")
def invoice_group() -> None:
    """Monthly invoices: draft, finalize and verify (one transaction per run)."""


def _month_option(function):
    return click.option("--month", "month", required=True, metavar="YYYY-MM",
                        help="The calendar month (UTC) to bill.")(function)


def _org_option(function):
    return click.option("--org", "org_slug", default=None, metavar="SLUG",
                        help="Only this organization (default: all).")(function)


def _billing_month(value: str):
    from fleetspend.billing.rating import parse_month

    try:
        return parse_month(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None


@invoice_group.command(name="draft")
@_month_option
@_org_option
def invoice_draft(month: str, org_slug: str | None) -> None:
    """Build or rebuild the draft invoices of MONTH (finalized ones are left alone)."""
    from fleetspend.billing.invoices import BillingError, draft_month

    try:
        run = draft_month(db.primary_engine(), _billing_month(month), org_slug)
    except BillingError as error:
        raise click.ClickException(str(error)) from None
    click.echo(run.describe())


@invoice_group.command(name="finalize")
@_month_option
@_org_option
def invoice_finalize(month: str, org_slug: str | None) -> None:
    """Redraft and finalize the invoices of MONTH, which must have ended."""
    from fleetspend.billing.invoices import BillingError, finalize_month

    try:
        run = finalize_month(db.primary_engine(), _billing_month(month), org_slug)
    except BillingError as error:
        raise click.ClickException(str(error)) from None
    click.echo(run.describe())


@invoice_group.command(name="verify")
@_month_option
@_org_option
def invoice_verify(month: str, org_slug: str | None) -> None:
    """Re-rate MONTH's usage and report every difference with the stored invoices."""
    from fleetspend.billing.invoices import BillingError
    from fleetspend.billing.verify import verify_month

    try:
        differences = verify_month(db.primary_engine(), _billing_month(month), org_slug)
    except BillingError as error:
        raise click.ClickException(str(error)) from None
    open_ones = [difference for difference in differences if difference.is_open]
    carried = [difference for difference in differences if not difference.is_open]
    if carried:
        click.echo("Carried to a later invoice as adjustments (late usage, resolved):")
        for difference in carried:
            click.echo(f"  {difference.describe()}")
    if open_ones:
        click.echo("Open (not billed anywhere yet):")
        for difference in open_ones:
            click.echo(f"  {difference.describe()}")
    click.echo(f"{len(open_ones)} open difference(s), {len(carried)} carried, for {month}")
    if open_ones:
        sys.exit(1)
