"""Settings, declared once.

Every knob the pipeline reads from the environment is a row of ``SETTINGS``; nothing else in
the package calls ``os.environ`` for configuration. ``tests/test_settings.py`` fails when a
setting is missing from the README, so the table and the docs cannot drift apart.

The data folder (``CADRE_HOME``) holds *all* state: inboxes, archive, work files, outboxes,
the warehouse, the published snapshot, reports and Airflow's home. Two folders never share
state, which is what lets tests and demos run side by side.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("CADRE_HOME", "./var", "Data folder holding all state (inbox, archive, warehouse, ...)."),
    Setting(
        "CADRE_SCHEMAS_DIR",
        str(PROJECT_ROOT / "schemas"),
        "Folder of data contracts; a jurisdiction points this at its own copy.",
    ),
    Setting(
        "CADRE_EXPECTATIONS_DIR",
        str(PROJECT_ROOT / "expectations"),
        "Folder of Great Expectations suites, one JSON file per source.",
    ),
    Setting(
        "CADRE_RULESET",
        str(PROJECT_ROOT / "warehouse" / "rules" / "ruleset.yaml"),
        "Rule-set configuration (thresholds, windows, weights); copy and edit per jurisdiction.",
    ),
    Setting(
        "CADRE_RULESET_PROFILE",
        "",
        "Jurisdiction profile applied on top of the rule set: a name under the rule set's "
        "profiles/ folder or a path to a profile file; empty = rules.md's numbers only.",
    ),
    Setting(
        "CADRE_PSEUDONYM_KEY",
        "",
        "Secret key for the analysts' pseudonymous cadre key; empty = a key file is created "
        "in the data folder's keys/ (never inside the published snapshot).",
    ),
    Setting(
        "CADRE_TIMEZONE",
        "Asia/Shanghai",
        "Deployment time zone: DAG schedules, run dates and report dates are read in it.",
    ),
    Setting(
        "CADRE_DUCKDB_MEMORY_LIMIT",
        "3GB",
        "DuckDB memory_limit for every connection (DuckDB's own default is 80% of RAM per "
        "process); past it DuckDB spills to its temp folder under the data folder.",
    ),
    Setting(
        "CADRE_DUCKDB_THREADS",
        "",
        "DuckDB threads per connection; empty = DuckDB's default (one per core).",
    ),
    # Limits on what one submitted file may hold, checked before the work they would cost is
    # done (pipelines.ingest.limits); a file over any of them is refused with the limit named.
    Setting("CADRE_MAX_FILE_BYTES", "104857600",
            "Largest file a unit may submit, in bytes (100 MB)."),
    Setting("CADRE_MAX_ROWS", "1000000", "Most rows (spreadsheet rows, CSV records, JSON items) "
            "in one file."),
    Setting("CADRE_MAX_COLUMNS", "256", "Most columns in one file (the sheet's used width)."),
    Setting("CADRE_MAX_CELLS", "20000000",
            "XLSX/XLS/ODS: most cells in a sheet's used range (its last row x its last "
            "column, 20 million; an .xls's or .ods's sheets together, as calamine builds them "
            "all), checked from the XML (or, for .xls, the BIFF records) before "
            "calamine reads it: calamine builds the whole used range, about 60 bytes a cell, "
            "so one stray cell at IV999999 (each within the row and column limits) would cost "
            "15 GB."),
    Setting("CADRE_MAX_CELL_CHARS", "32767", "Longest cell text (Excel's own cell limit)."),
    Setting("CADRE_MAX_UNCOMPRESSED_BYTES", "524288000",
            "XLSX/ODS: most bytes the zip's members may expand to (500 MB)."),
    Setting("CADRE_MAX_COMPRESSION_RATIO", "200",
            "XLSX/ODS: highest expansion ratio of a zip member larger than 1 MB (a zip bomb)."),
    Setting("CADRE_MAX_JSON_DEPTH", "20", "JSON: deepest nesting of arrays and objects."),
    Setting("CADRE_MAX_NUMBER_DIGITS", "40",
            "Longest number (digits) in a JSON file; longer is refused, in a cell a row issue."),
    Setting(
        "CADRE_CLUSTER_DATA",
        "",
        "Data folder the cluster's Celery workers use; empty = $CADRE_HOME/cluster/data (a "
        "local trial never writes the standalone warehouse). In production: the shared data folder.",
    ),
    Setting(
        "CADRE_AIRFLOW_DB_URL",
        "",
        "Airflow metadata DB for the cluster (SQLAlchemy URL, e.g. postgresql+psycopg2://user:pw@"
        "db-host/airflow); empty = `make cluster` starts its own PostgreSQL on 127.0.0.1.",
    ),
    Setting(
        "CADRE_CELERY_BROKER_URL",
        "",
        "Celery broker for the cluster (e.g. redis://broker-host:6379/0); empty = `make cluster` "
        "starts its own Redis on 127.0.0.1.",
    ),
    Setting(
        "CADRE_ALERT_EMAIL",
        "",
        "Comma-separated addresses that get an e-mail when a DAG task fails or a Deadline "
        "Alert fires (SMTP through Airflow's smtp provider); empty = alerts only go to "
        "alerts/alerts.jsonl in the data folder (always written).",
    ),
    Setting(
        "CADRE_ALERT_SMTP_CONN",
        "smtp_default",
        "Airflow connection id of the SMTP server used for CADRE_ALERT_EMAIL.",
    ),
    Setting(
        "CADRE_PORTAL_STORE_URL",
        "",
        "SQLAlchemy URL of the units' portal store (accounts, sessions, tokens, uploads, audit "
        "log); empty = SQLite at portal/portal.sqlite3 in the data folder. Production: "
        "postgresql+psycopg://...",
    ),
    Setting("CADRE_PORTAL_UPLOAD_LIMIT_MB", "20",
            "Largest file the portal accepts, in MB; a bigger upload gets 413 and nothing is "
            "written."),
    Setting("CADRE_PORTAL_SESSION_MINUTES", "480",
            "Lifetime of a portal login session (minutes) before the unit logs in again."),
    Setting("CADRE_PORTAL_SECURE_COOKIES", "false",
            "true = portal cookies carry the Secure flag (set it behind the TLS reverse proxy)."),
    Setting("CADRE_PORTAL_FORWARDED_ALLOW_IPS", "127.0.0.1",
            "Reverse proxies whose X-Forwarded-For/-Proto the portal trusts (client address in "
            "the audit log); comma-separated, as uvicorn's forwarded_allow_ips."),
    Setting("CADRE_PORTAL_ARGON2_PROFILE", "standard",
            "Password-hash cost of the portal: standard (argon2id, argon2-cffi's RFC 9106 low-"
            "memory profile) or test (cheap, for the test suite only)."),
    Setting("CADRE_GX_RESULT_DAYS", "90",
            "Days GX's own result files (gx/uncommitted/validations: failing values, ID numbers "
            "included) are kept; older ones are deleted when a process first validates. 0 keeps "
            "them all. meta.validation_result keeps the counts for good."),
    Setting(
        "CADRE_FAULT_INJECT",
        "",
        "Test-only: name of a crash point (e.g. load:mid_transaction) where the process kills "
        "itself, to prove a failed run leaves the warehouse as it was.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def is_set(name: str) -> bool:
    """True when a declared setting is given in the environment (not left to its default)."""
    _BY_NAME[name]  # KeyError = an undeclared setting, a bug
    return bool(os.environ.get(name))


def get(name: str) -> str:
    """The value of a declared setting: the environment, else its default."""
    setting = _BY_NAME[name]  # KeyError = an undeclared setting, a bug
    return os.environ.get(name, setting.default)


def timezone() -> ZoneInfo:
    """The deployment time zone (``CADRE_TIMEZONE``): schedules and run dates are read in it."""
    return ZoneInfo(get("CADRE_TIMEZONE"))


def today() -> date:
    """Today in the deployment time zone: the default date of a hand-run CLI command. DAG
    tasks never call this; they take their date from the run (see orchestration.dag_helpers)."""
    return datetime.now(timezone()).date()


@dataclass(frozen=True)
class DataHome:
    """The data folder and the fixed layout below it."""

    root: Path

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] | None = None) -> DataHome:
        return cls(Path(root if root is not None else get("CADRE_HOME")).resolve())

    @classmethod
    def current(cls) -> DataHome:
        """The data folder of ``CADRE_HOME``, its layout created: what every DAG task works in."""
        return cls.from_env().ensure()

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def warehouse_file(self) -> Path:
        return self.root / "warehouse" / "cadre.duckdb"

    @property
    def published_dir(self) -> Path:
        return self.root / "published"

    @property
    def published_file(self) -> Path:
        return self.published_dir / "cadre_snapshot.duckdb"

    @property
    def review_snapshot_dir(self) -> Path:
        """The identified review snapshot for the organization department's supervisors
        (owner-only permissions; see docs/access.md)."""
        return self.root / "review"

    @property
    def review_snapshot_file(self) -> Path:
        return self.review_snapshot_dir / "cadre_review.duckdb"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def duckdb_temp(self) -> Path:
        """Where DuckDB spills when a query outgrows ``CADRE_DUCKDB_MEMORY_LIMIT``."""
        return self.root / "tmp" / "duckdb"

    @property
    def alerts_file(self) -> Path:
        """Failure and deadline alerts, one JSON object a line (see orchestration.alerts)."""
        return self.root / "alerts" / "alerts.jsonl"

    @property
    def gx_project(self) -> Path:
        """The Great Expectations file context: suites, Validation Definitions, Checkpoints and
        their results. Engineers only: GX results and Data Docs show failing values."""
        return self.root / "gx"

    @property
    def portal_dir(self) -> Path:
        """The units' portal's own state (its SQLite store, demo accounts, flags view)."""
        return self.root / "portal"

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    def inbox_for(self, unit: str, source: str) -> Path:
        return self.inbox / unit / source

    def outbox_for(self, unit: str) -> Path:
        return self.outbox / unit

    def ensure(self) -> DataHome:
        for folder in (self.inbox, self.archive, self.work, self.outbox, self.reports,
                       self.warehouse_file.parent, self.published_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self
