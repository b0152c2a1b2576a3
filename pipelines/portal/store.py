"""The portal's own store: accounts, sessions, API tokens, login throttling, uploads waiting
for the worker, reviewers' decision requests and the append-only audit log.

SQLAlchemy over SQLite in the data folder by default (``portal/portal.sqlite3``, WAL mode so
the web process and the worker read and write it side by side), PostgreSQL in production
(``CADRE_PORTAL_STORE_URL``). It is deliberately not the DuckDB warehouse: DuckDB lets one
process hold the file, and the portal must keep answering while a DAG loads.

Secrets are never stored: passwords as argon2id hashes, session and API tokens as SHA-256 of
a 256-bit random value (a fast hash is enough for a value nobody can guess).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from pipelines import settings
from pipelines.settings import DataHome


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no zone, so every stored time is UTC by convention."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    unit: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    roles: Mapped[str] = mapped_column(String(64), default="")  # comma list: admin, reviewer
    password_hash: Mapped[str] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    def has_role(self, role: str) -> bool:
        return role in self.roles.split(",")


class WebSession(Base):
    __tablename__ = "web_session"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ApiToken(Base):
    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    unit: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LoginThrottle(Base):
    """Failed logins per login name (existing or not: the lockout must not reveal which)."""

    __tablename__ = "login_throttle"
    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Upload(Base):
    """A file a unit sent through the portal: archived, waiting for (or taken by) the worker.

    ``upload_id`` is what the unit polls; ``submission_id`` is the warehouse's id, known once
    the worker has run the receive step."""

    __tablename__ = "upload"
    upload_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    unit: Mapped[str] = mapped_column(String(16), index=True)
    sent_by: Mapped[str] = mapped_column(String(64))  # account login or "token:<id>"
    source: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    archive_path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32), default="queued", index=True)
    submission_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DecisionRequest(Base):
    """A reviewer's decision from the 线索与决定 page, recorded by the worker (which may hold
    the warehouse writer; the web process never does)."""

    __tablename__ = "decision_request"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flag_id: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(32))
    fields_json: Mapped[str] = mapped_column(Text)  # decided_on, reason, document_no, ...
    account_login: Mapped[str] = mapped_column(String(64))
    decided_by: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    message_zh: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEvent(Base):
    """Append-only (on SQLite, triggers refuse UPDATE and DELETE; on PostgreSQL grant the
    portal's role INSERT and SELECT only on this table)."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(32))  # login_ok, login_failed, upload, ...
    account: Mapped[str | None] = mapped_column(String(64), nullable=True)
    unit: Mapped[str | None] = mapped_column(String(16), nullable=True)
    client: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")


APPEND_ONLY_TRIGGERS = (
    "create trigger if not exists audit_event_no_update before update on audit_event "
    "begin select raise(abort, 'audit_event is append-only'); end",
    "create trigger if not exists audit_event_no_delete before delete on audit_event "
    "begin select raise(abort, 'audit_event is append-only'); end",
)


def store_url(home: DataHome) -> str:
    configured = settings.get("CADRE_PORTAL_STORE_URL")
    if configured:
        return configured
    home.portal_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home.portal_dir / 'portal.sqlite3'}"


@cache
def _engine(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_con, _record) -> None:  # noqa: ANN001
            cursor = dbapi_con.cursor()
            cursor.execute("pragma journal_mode=wal")  # readers never wait for the writer
            cursor.execute("pragma busy_timeout=15000")
            cursor.execute("pragma foreign_keys=on")
            cursor.close()
    Base.metadata.create_all(engine)
    if engine.dialect.name == "sqlite":
        with engine.begin() as con:
            for statement in APPEND_ONLY_TRIGGERS:
                con.execute(text(statement))
    return engine


def engine_for(home: DataHome) -> Engine:
    return _engine(store_url(home))


@contextmanager
def session_scope(home: DataHome) -> Iterator[Session]:
    """One transaction on the portal store: committed on success, rolled back on error."""
    factory = sessionmaker(engine_for(home), expire_on_commit=False)
    with factory() as db, db.begin():
        yield db


def audit(db: Session, action: str, *, account: str | None = None, unit: str | None = None,
          client: str | None = None, detail: str = "") -> None:
    db.add(AuditEvent(action=action, account=account, unit=unit, client=client,
                      detail=detail[:2000], at=utcnow()))
