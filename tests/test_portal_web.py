"""The portal over HTTP (httpx against a real uvicorn + worker on 127.0.0.1): the JSON API, one
ingest path, isolation between units, and the security items of issue 9.6.

One server for the module (started once; the tests share its data folder, each with its own
files, so their order does not matter)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.cli.main import app
from pipelines.ingest.steps import submit_file
from pipelines.portal.store import Upload, WebSession, session_scope
from pipelines.settings import DataHome
from tests.portal_server import (
    HOSTILE_TEXT,
    PASSWORD,
    Portal,
    audit_drop,
    csrf_of,
    login,
    running_portal,
    upload_api,
    wait_final,
)

pytestmark = pytest.mark.slow
UPLOAD_LIMIT_MB = 1  # the setting is honoured; a small one keeps the oversized upload cheap


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    home = DataHome.from_env(tmp_path_factory.mktemp("portal") / "home")
    with running_portal(home, CADRE_PORTAL_UPLOAD_LIMIT_MB=str(UPLOAD_LIMIT_MB)) as running:
        yield running


@pytest.fixture(scope="module")
def aud_upload(portal: Portal, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One 审计局 drop with row errors, sent through the API and processed by the worker."""
    path = audit_drop(tmp_path_factory.mktemp("drops") / "审计发现_2025.csv")
    answer = upload_api(portal, "AUD", "audit_finding", path)
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    receipt = wait_final(portal, queued["submission_id"], portal.tokens["AUD"])
    return {"path": path, "upload_id": queued["submission_id"], "queued": queued,
            "receipt": receipt}


def _bearer(portal: Portal, unit: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {portal.tokens[unit]}"}


# --- the API and the one ingest path -------------------------------------------------------

def test_upload_answers_202_then_the_receipt(aud_upload: dict) -> None:
    queued, receipt = aud_upload["queued"], aud_upload["receipt"]
    assert queued["status"] == "queued" and queued["submission_id"].startswith("up-")
    assert receipt["status"] == "partially_accepted"
    assert (receipt["rows_read"], receipt["rows_accepted"], receipt["rows_quarantined"]) == (7, 5, 2)
    assert {i["reason"] for i in receipt["issues"] if i["scope"] == "row"} == {
        "id_bad_checksum", "unknown_code"}


def test_portal_receipt_is_exactly_cadre_submits(aud_upload: dict, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The same file through `cadre submit` in a fresh data folder gives the same receipt
    (times and the feedback files' folder aside, which differ by run and data folder)."""
    other = DataHome.from_env(tmp_path / "cli_home")
    monkeypatch.setenv("CADRE_HOME", str(other.root))
    cli = submit_file(aud_upload["path"], "AUD", "audit_finding", other).to_json_dict()
    portal_receipt = dict(aud_upload["receipt"])
    for receipt in (cli, portal_receipt):
        receipt.pop("received_at"), receipt.pop("finished_at")
    cli["feedback_files"] = [Path(p).name for p in cli["feedback_files"]]
    assert portal_receipt == cli
    # and `cadre submit --json` prints that very receipt
    printed = CliRunner().invoke(app, ["submit", str(aud_upload["path"]), "--unit", "AUD",
                                       "--source", "audit_finding", "--json"])
    assert json.loads(printed.stdout)["status"] == "duplicate"  # the CLI's second send


def test_api_lists_own_unit_only_and_serves_templates(portal: Portal, aud_upload: dict) -> None:
    mine = httpx.get(f"{portal.url}/api/v1/submissions", headers=_bearer(portal, "AUD")).json()
    assert aud_upload["receipt"]["submission_id"] in [r["submission_id"] for r in mine]
    assert all(r["unit"] == "AUD" for r in mine)
    theirs = httpx.get(f"{portal.url}/api/v1/submissions", headers=_bearer(portal, "PET")).json()
    assert all(r["unit"] == "PET" for r in theirs)
    template = httpx.get(f"{portal.url}/api/v1/templates/audit_finding",
                         headers=_bearer(portal, "AUD"))
    assert template.status_code == 200 and template.content[:2] == b"PK"
    page_template = login(portal, "aud-clerk").get("/templates/audit_finding.xlsx")
    assert page_template.status_code == 200 and page_template.content[:2] == b"PK"
    assert "attachment" in page_template.headers["content-disposition"]
    docs = httpx.get(f"{portal.url}/api/docs")
    assert docs.status_code == 200 and "/api/v1/submissions" in docs.text
    assert "cdn" not in docs.text.lower()
    spec = httpx.get(f"{portal.url}/api/openapi.json").json()
    assert "/api/v1/submissions/{submission_id}" in spec["paths"]


def test_api_errors_are_json_with_chinese_message(portal: Portal) -> None:
    no_token = httpx.get(f"{portal.url}/api/v1/submissions")
    assert no_token.status_code == 401 and "令牌" in no_token.json()["message"]
    bad_token = httpx.get(f"{portal.url}/api/v1/submissions",
                          headers={"Authorization": "Bearer cadre_forged"})
    assert bad_token.status_code == 401
    missing = httpx.post(f"{portal.url}/api/v1/submissions", headers=_bearer(portal, "AUD"),
                         data={"source": "audit_finding"})
    assert missing.status_code == 400 and "file" in missing.json()["message"]
    unknown = httpx.get(f"{portal.url}/api/v1/templates/nope", headers=_bearer(portal, "AUD"))
    assert unknown.status_code == 404 and "没有这个数据类别" in unknown.json()["message"]


def test_source_permission_is_checked_first(portal: Portal, aud_upload: dict) -> None:
    """审计局 sending 巡视巡察办's source: 403 before anything is archived or queued — also
    for bytes already loaded (no `duplicate` that would reveal another unit's file)."""
    with session_scope(portal.home) as db:
        before = db.query(Upload).count()
    answer = upload_api(portal, "PET", "audit_finding", aud_upload["path"])
    assert answer.status_code == 403 and "不能报送" in answer.json()["message"]
    with session_scope(portal.home) as db:
        assert db.query(Upload).count() == before


# --- isolation between units ---------------------------------------------------------------

def test_another_units_submission_is_404_everywhere(portal: Portal, aud_upload: dict) -> None:
    warehouse_id = aud_upload["receipt"]["submission_id"]
    upload_id = aud_upload["upload_id"]
    pet = login(portal, "pet-clerk")
    aud = login(portal, "aud-clerk")
    guessed = [warehouse_id.rsplit("-", 1)[0] + "-00000000", "up-20260101-000000000000",
               "..%2F..%2FAUD", "%2e%2e"]
    for any_id in (warehouse_id, upload_id):
        for suffix in ("", "/feedback.xlsx", "/feedback.html", "/original", "/status"):
            assert aud.get(f"/submissions/{any_id}{suffix}").status_code == 200, suffix
            refused = pet.get(f"/submissions/{any_id}{suffix}")
            assert refused.status_code == 404 and "没有找到" in refused.text, suffix
        api = httpx.get(f"{portal.url}/api/v1/submissions/{any_id}", headers=_bearer(portal, "PET"))
        assert api.status_code == 404
    for any_id in guessed:
        assert pet.get(f"/submissions/{any_id}").status_code == 404
        assert aud.get(f"/submissions/{any_id}").status_code == 404
    listing = pet.get("/submissions").text
    assert warehouse_id not in listing and "审计发现_2025.csv" not in listing
    # ORG's admin role sees every unit's submissions
    admin = login(portal, "org-reviewer")
    assert admin.get(f"/submissions/{warehouse_id}").status_code == 200
    assert "审计发现_2025.csv" in admin.get("/submissions").text
    # an ORG account without the admin role does not
    assert login(portal, "org-clerk").get(f"/submissions/{warehouse_id}").status_code == 404


# --- security --------------------------------------------------------------------------------

def test_csrf_is_required_on_every_form_post(portal: Portal) -> None:
    anonymous = httpx.Client(base_url=portal.url)
    token = csrf_of(anonymous)
    form = {"login": "aud-clerk", "password": PASSWORD["aud-clerk"]}
    assert anonymous.post("/login", data=form).status_code == 403
    assert anonymous.post("/login", data={**form, "csrf_token": "x" * 43}).status_code == 403
    fresh = httpx.Client(base_url=portal.url)  # right value, but no cookie to match it
    assert fresh.post("/login", data={**form, "csrf_token": token}).status_code == 403
    aud = login(portal, "aud-clerk")
    posts = {"/logout": {}, "/password": {"current": "x", "new": "y", "again": "y"},
             "/review/decide": {"flag_id": "A1-x", "action": "clear"}}
    for path, data in posts.items():
        answer = aud.post(path, data=data)
        assert answer.status_code in (403, 404), path  # /review is 404 for non-reviewers
    refused = aud.post("/upload", data={"source": "audit_finding"},
                       files={"file": ("a.csv", b"x", "text/csv")})
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert aud.get("/submissions").status_code == 200  # the session survived the refusals


def test_cookies_sessions_expiry_and_logout(portal: Portal) -> None:
    client = httpx.Client(base_url=portal.url)
    token = csrf_of(client)
    answer = client.post("/login", data={"login": "aud-clerk", "password": PASSWORD["aud-clerk"],
                                         "csrf_token": token})
    cookies = answer.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith("cadre_session="))
    assert "HttpOnly" in session_cookie and "samesite=strict" in session_cookie.lower()
    assert "Secure" not in session_cookie  # CADRE_PORTAL_SECURE_COOKIES is off by default
    stolen = client.cookies.get("cadre_session")
    assert client.get("/submissions").status_code == 200
    # logout ends the session on the server: the old cookie no longer works
    client.post("/logout", data={"csrf_token": client.cookies.get("cadre_csrf")})
    replay = httpx.Client(base_url=portal.url, cookies={"cadre_session": stolen})
    assert replay.get("/submissions").headers["location"] == "/login"
    # sessions expire
    again = login(portal, "aud-clerk")
    assert again.get("/submissions").status_code == 200
    with session_scope(portal.home) as db:
        for web_session in db.query(WebSession):
            web_session.expires_at = web_session.created_at
    expired = again.get("/submissions")
    assert expired.status_code == 303 and expired.headers["location"] == "/login"


def test_secure_cookie_flag_when_configured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same app in-process with CADRE_PORTAL_SECURE_COOKIES=true (the setting is read
    when the app is made): every cookie carries Secure."""
    import asyncio

    from pipelines.portal.app import create_app
    from tests.portal_server import CSRF_INPUT, add_accounts

    monkeypatch.setenv("CADRE_PORTAL_SECURE_COOKIES", "true")
    home = DataHome.from_env(tmp_path / "home").ensure()
    add_accounts(home)

    async def log_in() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(home)),
                                     base_url="https://portal.test") as client:
            token = CSRF_INPUT.search((await client.get("/login")).text).group(1)
            return await client.post("/login", data={
                "login": "aud-clerk", "password": PASSWORD["aud-clerk"], "csrf_token": token})

    cookies = asyncio.run(log_in()).headers.get_list("set-cookie")
    assert cookies and all("Secure" in c and "HttpOnly" in c for c in cookies)


def test_login_lockout_does_not_reveal_which_logins_exist(portal: Portal) -> None:
    pages = {}
    for name in ("ins-clerk", "no-such-login"):
        client = httpx.Client(base_url=portal.url)
        token = csrf_of(client)
        for _ in range(5):
            answer = client.post("/login", data={"login": name, "password": "wrong-password",
                                                 "csrf_token": token})
        assert answer.status_code == 401 and "锁定15分钟" in answer.text
        right = client.post("/login", data={"login": name, "password": PASSWORD.get(name, "x"),
                                            "csrf_token": token})
        assert right.status_code == 401 and "锁定15分钟" in right.text
        pages[name] = re.sub(r'value="[^"]*"', "", right.text)
    assert pages["ins-clerk"] == pages["no-such-login"]


def test_oversized_upload_is_413_and_writes_nothing(portal: Portal, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    big.write_bytes(b"a" * (UPLOAD_LIMIT_MB * 1024 * 1024 + 1))
    archived_before = sorted(portal.home.archive.rglob("*"))
    with session_scope(portal.home) as db:
        uploads_before = db.query(Upload).count()
    answer = upload_api(portal, "AUD", "audit_finding", big)
    assert answer.status_code == 413 and "超过大小上限" in answer.json()["message"]
    aud = login(portal, "aud-clerk")
    page = aud.post("/upload", data={"source": "audit_finding", "csrf_token":
                                     csrf_of(aud, "/upload")},
                    files={"file": ("big.csv", big.read_bytes(), "text/csv")})
    assert page.status_code == 413 and "超过大小上限" in page.text
    assert sorted(portal.home.archive.rglob("*")) == archived_before
    with session_scope(portal.home) as db:
        assert db.query(Upload).count() == uploads_before


def test_hostile_file_names_are_stored_under_the_hash_and_shown_escaped(
        portal: Portal, tmp_path: Path) -> None:
    names = ["../../etc/passwd\".csv", "审计\"发现'<b>x</b>\x00.csv", "长" * 300 + ".csv"]
    aud = login(portal, "aud-clerk")
    for n, name in enumerate(names):
        path = audit_drop(tmp_path / f"drop{n}.csv", tag=f"-name{n}", bad_rows=False)
        answer = upload_api(portal, "AUD", "audit_finding", path, name=name)
        assert answer.status_code == 202, answer.text
        receipt = wait_final(portal, answer.json()["submission_id"], portal.tokens["AUD"])
        assert receipt["status"] == "accepted"
        assert "\x00" not in receipt["filename"] and len(receipt["filename"]) <= 200
        page = aud.get(f"/submissions/{receipt['submission_id']}").text
        assert "<b>x</b>" not in page
        shown = receipt["filename"].replace("&", "&amp;").replace("<", "&lt;").replace(
            ">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")
        assert shown in page, shown
        original = aud.get(f"/submissions/{receipt['submission_id']}/original")
        assert original.status_code == 200 and original.content == path.read_bytes()
        assert "attachment" in original.headers["content-disposition"]
    # the bytes live under their sha256 only; nothing was written outside the data folder
    stored = [p for p in portal.home.archive.rglob("*") if p.is_file()]
    assert all(re.fullmatch(r"[0-9a-f]{64}\.[a-z]+", p.name) for p in stored)
    assert not (portal.home.root.parent / "etc").exists()
    listing = aud.get("/submissions").text
    assert "<b>x</b>" not in listing


def test_user_text_is_escaped_and_pages_carry_the_csp(portal: Portal, aud_upload: dict) -> None:
    aud = login(portal, "aud-clerk")
    page = aud.get(f"/submissions/{aud_upload['receipt']['submission_id']}")
    assert HOSTILE_TEXT not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    for path in ("/login", "/submissions", "/upload", "/templates", "/password",
                 f"/submissions/{aud_upload['upload_id']}"):
        answer = aud.get(path)
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text), path  # no inline script
        assert not re.search(r"\son[a-z]+=", answer.text), path  # no inline handlers
        assert "http://" not in answer.text and "https://" not in answer.text, path  # no CDN


def test_no_stack_trace_or_internal_path_reaches_a_page(portal: Portal) -> None:
    """A broken receipt file makes the listing fail: the unit gets a Chinese message, the
    trace stays in the server's log."""
    broken = portal.home.outbox_for("DIS") / "20990101-deadbeef.receipt.json"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_text("{ not json", encoding="utf-8")
    with session_scope(portal.home) as db:
        from pipelines.portal import auth

        auth.add_account(db, "DIS", "dis-clerk", "dis-password-1")
    dis = login(portal, "dis-clerk", "dis-password-1")
    answer = dis.get("/submissions")
    assert answer.status_code == 500 and "服务器内部错误" in answer.text
    for leak in ("Traceback", "JSONDecodeError", str(portal.home.root), "/pipelines/"):
        assert leak not in answer.text
    assert answer.headers["content-security-policy"]
    api = httpx.get(f"{portal.url}/api/v1/nope")
    assert api.status_code == 404 and api.json()["message"]
    broken.unlink()


def test_the_portal_answers_while_the_warehouse_writer_is_held(portal: Portal, aud_upload: dict,
                                                               tmp_path: Path) -> None:
    """A DAG holding the DuckDB writer (here: this test process) does not stop login, lists,
    final receipts or uploads; the upload is processed once the writer is free."""
    path = audit_drop(tmp_path / "while_busy.csv", tag="-busy", bad_rows=False)
    with warehouse.writer(portal.home.warehouse_file) as con:
        con.execute("select 1")
        aud = login(portal, "aud-clerk")  # each call would time out (30 s) if it waited
        assert aud.get("/submissions").status_code == 200
        assert aud.get(f"/submissions/{aud_upload['receipt']['submission_id']}").status_code == 200
        queued = upload_api(portal, "AUD", "audit_finding", path)
        assert queued.status_code == 202
        upload_id = queued.json()["submission_id"]
        time.sleep(1.0)  # give the worker a chance to (try to) run
        status = httpx.get(f"{portal.url}/api/v1/submissions/{upload_id}",
                           headers=_bearer(portal, "AUD"))
        assert status.status_code == 202 and status.json()["final"] is False
    assert wait_final(portal, upload_id, portal.tokens["AUD"])["status"] == "accepted"


def test_audit_log_records_who_did_what_from_where(portal: Portal, aud_upload: dict,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    aud = login(portal, "aud-clerk")
    aud.get(f"/submissions/{aud_upload['receipt']['submission_id']}/feedback.xlsx")
    bad = httpx.Client(base_url=portal.url)
    bad.post("/login", data={"login": "aud-clerk", "password": "nope",
                             "csrf_token": csrf_of(bad)})
    monkeypatch.setenv("CADRE_HOME", str(portal.home.root))
    printed = CliRunner().invoke(app, ["portal", "audit", "--limit", "1000"]).output
    for action in ("login_ok", "login_failed", "upload", "download", "token_use"):
        assert action in printed, action
    from pipelines.portal.store import AuditEvent

    with session_scope(portal.home) as db:
        download = db.query(AuditEvent).filter_by(action="download", account="aud-clerk").first()
        assert download.unit == "AUD" and download.client == "127.0.0.1" and download.at


def test_non_reviewers_have_no_review_page(portal: Portal) -> None:
    assert login(portal, "aud-clerk").get("/review").status_code == 404
    assert login(portal, "org-clerk").get("/review").status_code == 404
    assert login(portal, "org-reviewer").get("/review").status_code == 200


def test_the_upload_form_offers_every_format_the_contract_accepts(portal: Portal) -> None:
    """The file picker's filter (``accept``) hid legacy .xls and .ods files, which the
    contract accepts and the readers read."""
    from pipelines.ingest.readers import FORMATS

    page = login(portal, "aud-clerk").get("/upload")
    assert page.status_code == 200
    [accept] = re.findall(r'<input type="file"[^>]*\baccept="([^"]*)"', page.text)
    assert set(accept.split(",")) == set(FORMATS), accept
    assert ".xls、" in page.text and ".ods" in page.text
