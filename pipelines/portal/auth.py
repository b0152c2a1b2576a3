"""Accounts, passwords, sessions, API tokens and login throttling.

Passwords are argon2id hashes (argon2-cffi; ``CADRE_PORTAL_ARGON2_PROFILE=test`` only makes
the test suite cheap). A login that fails 5 times within 15 minutes is locked for 15 minutes,
whether the login exists or not, and the locked answer is the same for both, so the lockout
does not tell anyone which logins exist. A wrong password and an unknown login also get the
same message and cost the same (an unknown login is checked against a dummy hash).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from argon2.profiles import CHEAPEST, RFC_9106_LOW_MEMORY
from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines import contracts, settings
from pipelines.portal.store import Account, ApiToken, LoginThrottle, WebSession, digest, utcnow

MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 10
ROLES = ("admin", "reviewer")
LOGIN_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
TOKEN_PREFIX = "cadre_"


class AccountError(ValueError):
    """A refused account operation; the text is Chinese (it reaches people)."""


@cache
def hasher() -> PasswordHasher:
    profile = settings.get("CADRE_PORTAL_ARGON2_PROFILE")
    if profile not in ("standard", "test"):
        raise ValueError(f"CADRE_PORTAL_ARGON2_PROFILE must be standard or test, not {profile!r}")
    return PasswordHasher.from_parameters(CHEAPEST if profile == "test" else RFC_9106_LOW_MEMORY)


@cache
def _dummy_hash() -> str:
    return hasher().hash(secrets.token_urlsafe(16))


def normalise_login(login: str) -> str:
    return (login or "").strip().lower()[:64]


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少{MIN_PASSWORD_LENGTH}个字符")
    if len(password) > 256:
        raise AccountError("密码不能超过256个字符")


def add_account(db: Session, unit: str, login: str, password: str, *, display_name: str = "",
                roles: tuple[str, ...] = ()) -> Account:
    login = normalise_login(login)
    if unit not in contracts.load_units():
        raise AccountError(f"未知单位：{unit}（可选：{'、'.join(contracts.load_units())}）")
    if not LOGIN_PATTERN.match(login):
        raise AccountError("登录名只能由小写字母、数字、点、下划线和连字符组成（2-63个字符）")
    if db.scalar(select(Account).where(Account.login == login)) is not None:
        raise AccountError(f"登录名已存在：{login}")
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise AccountError(f"未知角色：{'、'.join(sorted(unknown))}")
    if set(roles) and unit != "ORG":
        raise AccountError("只有组织部（ORG）的账号可以有管理员或审核人角色")
    check_password_policy(password)
    account = Account(login=login, unit=unit, display_name=display_name or login,
                      roles=",".join(roles), password_hash=hasher().hash(password))
    db.add(account)
    db.flush()
    return account


def get_account(db: Session, login: str) -> Account:
    account = db.scalar(select(Account).where(Account.login == normalise_login(login)))
    if account is None:
        raise AccountError(f"没有这个登录名：{login}")
    return account


def set_password(db: Session, account: Account, password: str) -> None:
    """New password; every open session of the account ends."""
    check_password_policy(password)
    account.password_hash = hasher().hash(password)
    account.password_changed_at = utcnow()
    end_sessions(db, account)


def end_sessions(db: Session, account: Account) -> None:
    now = utcnow()
    for web_session in db.scalars(select(WebSession).where(
            WebSession.account_id == account.id, WebSession.revoked_at.is_(None))):
        web_session.revoked_at = now


def verify_password(account: Account | None, password: str) -> bool:
    try:
        hasher().verify(account.password_hash if account else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return account is not None


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.account is not None


def attempt_login(db: Session, login: str, password: str, now: datetime | None = None
                  ) -> LoginResult:
    """Check a login; counts failures and locks after ``MAX_FAILURES`` within the window.

    While locked nothing is checked (not even a right password) and nothing is counted."""
    now = now or utcnow()
    key = normalise_login(login)
    throttle = db.get(LoginThrottle, key)
    if throttle and throttle.locked_until and throttle.locked_until > now:
        return LoginResult(None, throttle.locked_until)
    account = db.scalar(select(Account).where(Account.login == key))
    if verify_password(account, password) and account is not None and not account.disabled:
        if throttle is not None:
            db.delete(throttle)
        return LoginResult(account)
    if throttle is None:
        throttle = LoginThrottle(login=key, failures=0)
        db.add(throttle)
    if throttle.window_start is None or now - throttle.window_start > FAILURE_WINDOW:
        throttle.window_start, throttle.failures = now, 0
    throttle.failures += 1
    throttle.locked_until = None
    if throttle.failures >= MAX_FAILURES:
        throttle.locked_until = now + LOCKOUT
        throttle.window_start, throttle.failures = None, 0
        return LoginResult(None, throttle.locked_until)
    return LoginResult(None)


def new_session(db: Session, account: Account, lifetime: timedelta) -> str:
    """A fresh session token (goes into the cookie; only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    db.add(WebSession(token_hash=digest(token), account_id=account.id,
                      created_at=utcnow(), expires_at=utcnow() + lifetime))
    return token


def session_account(db: Session, token: str | None) -> Account | None:
    """The account of a live session, or None (unknown, expired, revoked, disabled)."""
    if not token:
        return None
    web_session = db.get(WebSession, digest(token))
    if web_session is None or web_session.revoked_at is not None or \
            web_session.expires_at <= utcnow():
        return None
    account = db.get(Account, web_session.account_id)
    return None if account is None or account.disabled else account


def end_session(db: Session, token: str | None) -> None:
    if token and (web_session := db.get(WebSession, digest(token))) is not None:
        web_session.revoked_at = utcnow()


def create_token(db: Session, unit: str) -> str:
    if unit not in contracts.load_units():
        raise AccountError(f"未知单位：{unit}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(token_hash=digest(token), unit=unit))
    return token


def token_unit(db: Session, token: str) -> ApiToken | None:
    found = db.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if found is None or found.revoked_at is not None:
        return None
    found.last_used_at = utcnow()
    return found
