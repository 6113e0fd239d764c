"""The `fleetspend` command's terminal output."""

from fleetspend import cli


def test_the_progress_bar_shows_the_step_in_progress_and_nothing_else(capsys):
    report, bar = cli._terminal_progress("seeding demo")
    with bar:
        report(0.5, "finalizing the invoices of October 2026")
    line = capsys.readouterr().err.replace("\r", "\n").strip().splitlines()[-1]
    assert line.startswith("seeding demo  50%|")
    assert line.rstrip().endswith("| finalizing the invoices of October 2026")
    assert ", finalizing" not in line
