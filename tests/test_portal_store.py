"""The portal's store, accounts and CLI, and the receive step's permission-before-duplicate
order (no server here: see test_portal_web.py and test_portal_browser.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli.main import app
from pipelines.ingest.steps import submit_file
from pipelines.portal import auth
from pipelines.portal.store import ApiToken, AuditEvent, session_scope, utcnow
from pipelines.settings import DataHome
from tests.build_fixtures import Scenario, new_id

runner = CliRunner()


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2's standard cost is ~0.35 s a hash here; the test profile is a setting."""
    monkeypatch.setenv("CADRE_PORTAL_ARGON2_PROFILE", "test")
    auth.hasher.cache_clear()


def _cli(*args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, ["portal", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_accounts_tokens_and_audit_through_the_cli(home: DataHome) -> None:
    _cli("user", "add", "AUD", "aud-clerk", "--password-stdin", stdin="first-password-1\n")
    token = _cli("token", "create", "AUD").strip().splitlines()[-1]
    assert token.startswith("cadre_") and len(token) > 40
    with session_scope(home) as db:
        account = auth.get_account(db, "aud-clerk")
        assert account.password_hash.startswith("$argon2id$")
        assert auth.verify_password(account, "first-password-1")
        stored = db.query(ApiToken).one()
        assert stored.token_hash != token and token not in stored.token_hash
        assert auth.token_unit(db, token).unit == "AUD"
    _cli("user", "reset-password", "aud-clerk", "--password-stdin", stdin="second-password-2\n")
    with session_scope(home) as db:
        account = auth.get_account(db, "aud-clerk")
        assert not auth.verify_password(account, "first-password-1")
        assert auth.attempt_login(db, "aud-clerk", "second-password-2").ok
    _cli("user", "disable", "aud-clerk")
    with session_scope(home) as db:
        assert not auth.attempt_login(db, "aud-clerk", "second-password-2").ok
    printed = _cli("audit")
    for action in ("account_added", "token_created", "password_reset", "account_disabled"):
        assert action in printed
    # the store file holds no password or token in clear
    raw = (home.portal_dir / "portal.sqlite3").read_bytes()
    assert b"second-password-2" not in raw and token.encode() not in raw


def test_cli_refuses_bad_accounts(home: DataHome) -> None:
    short = runner.invoke(app, ["portal", "user", "add", "AUD", "a1", "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 1 and "密码至少" in short.output
    wrong_unit = runner.invoke(app, ["portal", "user", "add", "XYZ", "x1", "--password-stdin"],
                               input="long-enough-password\n")
    assert wrong_unit.exit_code == 1 and "未知单位" in wrong_unit.output
    role = runner.invoke(app, ["portal", "user", "add", "INS", "ins1", "--admin",
                               "--password-stdin"], input="long-enough-password\n")
    assert role.exit_code == 1 and "ORG" in role.output


def test_lockout_after_five_failures_same_for_unknown_logins(home: DataHome) -> None:
    with session_scope(home) as db:
        auth.add_account(db, "PET", "pet-clerk", "right-password-1")
    start = utcnow()
    with session_scope(home) as db:
        for n in range(4):
            result = auth.attempt_login(db, "pet-clerk", "wrong", now=start + timedelta(minutes=n))
            assert not result.ok and result.locked_until is None
        fifth = auth.attempt_login(db, "pet-clerk", "wrong", now=start + timedelta(minutes=4))
        assert fifth.locked_until == start + timedelta(minutes=19)
        # locked: even the right password is not accepted, nothing reveals which was right
        assert not auth.attempt_login(db, "pet-clerk", "right-password-1",
                                      now=start + timedelta(minutes=10)).ok
        # an unknown login locks exactly the same way
        for n in range(5):
            ghost = auth.attempt_login(db, "nobody", "wrong", now=start + timedelta(minutes=n))
        assert ghost.locked_until == fifth.locked_until
        # 15 minutes after the lock, the right password works and clears the count
        assert auth.attempt_login(db, "pet-clerk", "right-password-1",
                                  now=start + timedelta(minutes=19, seconds=1)).ok


def test_failures_spread_over_more_than_15_minutes_do_not_lock(home: DataHome) -> None:
    with session_scope(home) as db:
        auth.add_account(db, "PET", "pet-clerk", "right-password-1")
        start = utcnow()
        for n in range(8):  # one failure every 4 minutes: never 5 within 15
            result = auth.attempt_login(db, "pet-clerk", "wrong",
                                        now=start + timedelta(minutes=4 * n))
            assert result.locked_until is None or n >= 4
        assert auth.attempt_login(db, "pet-clerk", "right-password-1",
                                  now=start + timedelta(minutes=33)).ok


def test_audit_log_is_append_only(home: DataHome) -> None:
    with session_scope(home) as db:
        db.add(AuditEvent(action="login_ok", account="x", unit="AUD", client="127.0.0.1"))
    con = sqlite3.connect(home.portal_dir / "portal.sqlite3")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("update audit_event set action = 'forged'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        con.execute("delete from audit_event")
    con.close()


def test_demo_accounts_file_is_private(home: DataHome) -> None:
    from pipelines.dev.demo_portal import create_demo_accounts, demo_accounts_file

    created = create_demo_accounts(home)
    assert [u for u, _, _ in created] == ["ORG", "INS", "AUD", "PET", "DIS"]
    path = demo_accounts_file(home)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    with session_scope(home) as db:
        for unit, login, password in created:
            assert password in text
            account = auth.get_account(db, login)
            assert account.unit == unit and auth.verify_password(account, password)
        assert auth.get_account(db, "org-demo").has_role("reviewer")
    assert create_demo_accounts(home) == []  # a second run leaves them alone


def _inspection_file(folder: Path) -> Path:
    scenario = Scenario()
    scenario.add("inspection_finding", finding_id="巡-2025-01", round="2025年第一轮",
                 org_name="某县发展和改革局", id_number=new_id(), name="张三",
                 category="选人用人", description="违规提拔", severity="较重",
                 responsibility="直接责任", found_on="2025-04-01", rectification="整改中")
    folder.mkdir(parents=True, exist_ok=True)
    return scenario.write(folder, "inspection_finding", scenario.rows["inspection_finding"])


@pytest.mark.integration
def test_permission_is_checked_before_the_duplicate_check(home: DataHome, tmp_path: Path) -> None:
    """Bytes 巡视巡察办 sent, sent again by 审计局 as an inspection finding: a refusal for 审计局
    (not `duplicate`, which would tell it what another unit sent)."""
    path = _inspection_file(tmp_path / "drops")
    first = submit_file(path, "INS", "inspection_finding", home)
    assert first.status == "accepted"
    again = submit_file(path, "AUD", "inspection_finding", home)
    assert again.status == "refused" and again.duplicate_of is None
    assert [i.reason for i in again.issues] == ["unit_not_allowed"]
    # the rightful unit still gets its duplicate
    assert submit_file(path, "INS", "inspection_finding", home).status == "duplicate"


@pytest.mark.integration
def test_every_final_receipt_is_written_beside_the_feedback(home: DataHome,
                                                            tmp_path: Path) -> None:
    path = _inspection_file(tmp_path / "drops")
    receipt = submit_file(path, "INS", "inspection_finding", home)
    written = home.outbox_for("INS") / f"{receipt.submission_id}.receipt.json"
    assert json.loads(written.read_text(encoding="utf-8")) == receipt.to_json_dict()
