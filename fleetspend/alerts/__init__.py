"""Budgets, alerts and their delivery: spend that warns before the invoice does.

- :mod:`.budgets`: budgets of an organization, a team or an app (a monthly amount in cents,
  optionally another for some months; thresholds in percent on actual and forecast spend),
  written by admins through database functions that audit every change (migration 0016);
- :mod:`.figures`: a budget scope's month so far and its forecast, read the way the pages
  read them (:func:`.figures.month_spend_for_scope` is the one place to change that);
- :mod:`.evaluate`: ``fleetspend alerts run``: every organization's budgets against their
  thresholds and the anomaly detector of :mod:`fleetspend.anomaly_search`, each alert once;
- :mod:`.delivery`: email over SMTP and signed webhooks, retried with backoff, every attempt
  logged, after evaluation has committed (a delivery never holds evaluation up);
- :mod:`.inbox`: each person's inbox: read, acknowledged, muted.

Their writes live in sql/, one named statement per file (fleetspend/sqlfiles.py):
``statements``; their page reads are in queries/.
"""

from pathlib import Path

from fleetspend.sqlfiles import SqlFolder

statements = SqlFolder(Path(__file__).resolve().parent / "sql")
