"""The units' pages (Chinese): login, 我的报送, a submission, 上传, 模板与说明, 修改密码, and for
ORG reviewers 线索与决定. Every POST carries the CSRF token; every lookup is scoped to the
signed-in unit (another unit's submission is a 404, exactly like one that does not exist).
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response

from pipelines import contracts
from pipelines.portal import auth, flags
from pipelines.portal import submissions as subs
from pipelines.portal.store import Account, DecisionRequest, audit, session_scope
from pipelines.portal.web import (
    CSRF_COOKIE,
    CSRF_FIELD,
    SESSION_COOKIE,
    PortalError,
    check_csrf,
    client_address,
    config_of,
    current_account,
    render,
    require_account,
    scope_unit,
    set_cookie,
    template_response,
    too_large_message,
)

router = APIRouter(include_in_schema=False)
PAGE_ISSUE_LIMIT = 500  # the XLSX feedback has every row; the page shows the first ones


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


async def _form(request: Request) -> dict[str, object]:
    form = await request.form(max_files=1, max_fields=20)
    return dict(form)


@router.get("/")
def index(request: Request) -> Response:
    return _redirect("/submissions" if current_account(request) else "/login")


@router.get("/healthz")
def healthz() -> JSONResponse:
    return JSONResponse({"ok": True})


@router.get("/login")
def login_page(request: Request) -> Response:
    if current_account(request):
        return _redirect("/submissions")
    return render(request, "login.html.j2", error=None, login="")


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await _form(request)
    check_csrf(request, form.get(CSRF_FIELD))
    login, password = str(form.get("login", "")), str(form.get("password", ""))
    config = config_of(request)
    with session_scope(config.home) as db:
        result = auth.attempt_login(db, login, password)
        if result.account is None:
            audit(db, "login_locked" if result.locked_until else "login_failed",
                  account=auth.normalise_login(login), client=client_address(request))
        else:
            audit(db, "login_ok", account=result.account.login, unit=result.account.unit,
                  client=client_address(request))
            token = auth.new_session(db, result.account, config.session_lifetime)
    if result.account is None:
        error = ("登录失败次数过多，该登录名已被锁定15分钟，请稍后再试。" if result.locked_until
                 else "登录名或密码不正确。")
        return render(request, "login.html.j2", status=401, error=error, login=login)
    response = _redirect("/submissions")
    set_cookie(response, config, SESSION_COOKIE, token,
               max_age=int(config.session_lifetime.total_seconds()))
    set_cookie(response, config, CSRF_COOKIE, secrets.token_urlsafe(32))
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    form = await _form(request)
    check_csrf(request, form.get(CSRF_FIELD))
    config = config_of(request)
    with session_scope(config.home) as db:
        account = auth.session_account(db, request.cookies.get(SESSION_COOKIE))
        auth.end_session(db, request.cookies.get(SESSION_COOKIE))
        if account is not None:
            audit(db, "logout", account=account.login, unit=account.unit,
                  client=client_address(request))
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/submissions")
def my_submissions(request: Request) -> Response:
    account = require_account(request)
    config = config_of(request)
    with session_scope(config.home) as db:
        rows = subs.listing(db, config.home, scope_unit(account))
    return render(request, "submissions.html.j2", account=account, rows=rows,
                  show_unit=scope_unit(account) is None)


def _found(request: Request, submission_id: str) -> tuple[Account, subs.Found]:
    account = require_account(request)
    config = config_of(request)
    with session_scope(config.home) as db:
        found = subs.find(db, config.home, scope_unit(account), submission_id)
    if found is None:
        raise PortalError(404, "没有找到这条报送记录。")
    return account, found


@router.get("/submissions/{submission_id}")
def submission_page(request: Request, submission_id: str) -> Response:
    account, found = _found(request, submission_id)
    receipt = found.receipt
    row_issues = [i for i in receipt["issues"] if i["scope"] == "row"] if receipt else []
    other_issues = [i for i in receipt["issues"] if i["scope"] != "row"] if receipt else []
    return render(request, "submission.html.j2", account=account, found=found, receipt=receipt,
                  row_issues=row_issues[:PAGE_ISSUE_LIMIT], row_issue_count=len(row_issues),
                  other_issues=other_issues, status_zh=subs.STATUS_ZH.get(found.status,
                                                                          found.status),
                  source_zh=_source_zh(receipt["source"] if receipt else found.upload.source),
                  filename=receipt["filename"] if receipt else found.upload.filename)


def _source_zh(source: str) -> str:
    try:
        return contracts.load_contract(source).title_zh
    except (KeyError, FileNotFoundError):
        return source


@router.get("/submissions/{submission_id}/status")
def submission_status(request: Request, submission_id: str) -> JSONResponse:
    _, found = _found(request, submission_id)
    return JSONResponse({"status": found.status, "final": found.settled,
                         "status_zh": subs.STATUS_ZH.get(found.status, found.status)})


def attachment(path: Path, name: str, media_type: str) -> FileResponse:
    ascii_name = "".join(ch if ch.isascii() and ch.isalnum() or ch in "._-" else "_"
                         for ch in name) or "file"
    response = FileResponse(path, media_type=media_type)
    response.headers["content-disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}")
    response.headers["content-security-policy"] = "sandbox; default-src 'none'"
    return response


MEDIA = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "html": "text/html; charset=utf-8"}


def download(request: Request, submission_id: str, kind: str, via: str) -> Response:
    account, found = _found(request, submission_id)
    config = config_of(request)
    if kind == "original":
        located = subs.original_file(config.home, found)
        if located is None:
            raise PortalError(404, "原始文件不存在。")
        path, name = located
        media = "application/octet-stream"
    else:
        path = subs.outbox_file(config.home, found, kind)
        if path is None:
            raise PortalError(404, "反馈报告尚未生成。")
        name, media = path.name, MEDIA[kind]
    with session_scope(config.home) as db:
        audit(db, "download", account=account.login, unit=found.unit,
              client=client_address(request), detail=f"{via} {found.id} {kind}")
    return attachment(path, name, media)


@router.get("/submissions/{submission_id}/feedback.xlsx")
def feedback_xlsx(request: Request, submission_id: str) -> Response:
    return download(request, submission_id, "xlsx", "page")


@router.get("/submissions/{submission_id}/feedback.html")
def feedback_html(request: Request, submission_id: str) -> Response:
    return download(request, submission_id, "html", "page")


@router.get("/submissions/{submission_id}/original")
def original(request: Request, submission_id: str) -> Response:
    return download(request, submission_id, "original", "page")


@router.get("/upload")
def upload_page(request: Request) -> Response:
    account = require_account(request)
    return render(request, "upload.html.j2", account=account, error=None,
                  sources=[(s, _source_zh(s)) for s in subs.allowed_sources(account.unit)],
                  limit_zh=config_of(request).upload_limit_zh)


@router.post("/upload")
async def upload_submit(request: Request) -> Response:
    account = require_account(request)
    config = config_of(request)
    form = await _form(request)
    check_csrf(request, form.get(CSRF_FIELD))
    file = form.get("file")
    source = str(form.get("source", ""))
    if file is None or isinstance(file, str):
        raise PortalError(400, "请选择要上传的文件。")
    data = await file.read()  # type: ignore[union-attr]
    if len(data) > config.upload_limit:
        raise PortalError(413, too_large_message(config))
    try:
        with session_scope(config.home) as db:
            upload = subs.accept_upload(db, config.home, unit=account.unit, sent_by=account.login,
                                        source=source, filename=file.filename, data=data)  # type: ignore[union-attr]
            audit(db, "upload", account=account.login, unit=account.unit,
                  client=client_address(request),
                  detail=f"{upload.upload_id} {source} {upload.sha256} {len(data)}B")
            upload_id = upload.upload_id
    except subs.UploadRefused as refused:
        with session_scope(config.home) as db:
            audit(db, "upload_refused", account=account.login, unit=account.unit,
                  client=client_address(request), detail=f"{source}: {refused.message_zh}")
        return render(request, "upload.html.j2", status=refused.status, account=account,
                      error=refused.message_zh,
                      sources=[(s, _source_zh(s)) for s in subs.allowed_sources(account.unit)],
                      limit_zh=config.upload_limit_zh)
    return _redirect(f"/submissions/{upload_id}")


@router.get("/templates")
def templates_page(request: Request) -> Response:
    account = require_account(request)
    sources = contracts.source_names() if account.has_role("admin") else \
        subs.allowed_sources(account.unit)
    return render(request, "templates.html.j2", account=account,
                  contracts=[contracts.load_contract(s) for s in sources],
                  units=contracts.load_units())


@router.get("/templates/{source}.xlsx")
def template_download(request: Request, source: str) -> Response:
    account = require_account(request)
    if source not in contracts.source_names():
        raise PortalError(404, "没有这个数据类别。")
    with session_scope(config_of(request).home) as db:
        audit(db, "download", account=account.login, unit=account.unit,
              client=client_address(request), detail=f"page template {source}")
    return template_response(source)


@router.get("/password")
def password_page(request: Request) -> Response:
    account = require_account(request)
    return render(request, "password.html.j2", account=account, error=None, done=False)


@router.post("/password")
async def password_submit(request: Request) -> Response:
    account = require_account(request)
    form = await _form(request)
    check_csrf(request, form.get(CSRF_FIELD))
    config = config_of(request)
    current, new, again = (str(form.get(k, "")) for k in ("current", "new", "again"))
    error = None
    with session_scope(config.home) as db:
        stored = auth.get_account(db, account.login)
        if not auth.verify_password(stored, current):
            error = "当前密码不正确。"
        elif new != again:
            error = "两次输入的新密码不一致。"
        else:
            try:
                auth.set_password(db, stored, new)
            except auth.AccountError as exc:
                error = str(exc)
        if error is None:
            audit(db, "password_changed", account=account.login, unit=account.unit,
                  client=client_address(request))
            token = auth.new_session(db, stored, config.session_lifetime)
    if error is not None:
        return render(request, "password.html.j2", status=400, account=account, error=error,
                      done=False)
    response = render(request, "password.html.j2", account=account, error=None, done=True)
    set_cookie(response, config, SESSION_COOKIE, token,
               max_age=int(config.session_lifetime.total_seconds()))
    return response


@router.get("/review")
def review_page(request: Request) -> Response:
    account = require_account(request, role="reviewer")
    config = config_of(request)
    view = flags.read_view(config.home)
    from pipelines.review.decisions import ACTIONS, adjustment_measures  # noqa: PLC0415

    with session_scope(config.home) as db:
        requests = [
            {"flag_id": r.flag_id, "status": r.status, "message_zh": r.message_zh,
             "action": ACTIONS[r.action].zh if r.action in ACTIONS else r.action,
             "created_at": subs.shown_time(r.created_at)[:19], "decided_by": r.decided_by}
            for r in db.query(DecisionRequest).order_by(DecisionRequest.id.desc()).limit(20)]

    return render(request, "review.html.j2", account=account, view=view, requests=requests,
                  today=date.today().isoformat(), measures=adjustment_measures())


@router.post("/review/decide")
async def review_decide(request: Request) -> Response:
    account = require_account(request, role="reviewer")
    form = await _form(request)
    check_csrf(request, form.get(CSRF_FIELD))
    config = config_of(request)
    flag_id, action = str(form.get("flag_id", "")).strip(), str(form.get("action", "")).strip()
    fields = {k: str(form.get(k, "")).strip()[:500] for k in
              ("decided_on", "reason", "document_no", "measure", "observe_until", "remark")}
    try:
        for day in ("decided_on", "observe_until"):
            if fields[day]:
                date.fromisoformat(fields[day])
    except ValueError as exc:
        raise PortalError(400, "日期格式应为 2025-03-05。") from exc
    if not flag_id or not action or not fields["decided_on"]:
        raise PortalError(400, "请填写线索编号、决定类型和决定日期。")
    with session_scope(config.home) as db:
        db.add(DecisionRequest(flag_id=flag_id[:64], action=action[:32],
                               fields_json=json.dumps(fields, ensure_ascii=False),
                               account_login=account.login,
                               decided_by=account.display_name or account.login))
        audit(db, "decision_requested", account=account.login, unit=account.unit,
              client=client_address(request), detail=f"{flag_id} {action}")
    return _redirect("/review#requests")


docs_router = APIRouter(include_in_schema=False)
PAGE_ISSUE_LIMIT = 500  # the XLSX feedback has every row; the page shows the first ones


@docs_router.get("/api/docs")
def api_docs(request: Request) -> Response:
    """The OpenAPI description as a page of our own (Swagger UI would load a CDN and inline
    script, which the isolated network and the CSP both forbid)."""
    spec = request.app.openapi()
    operations = [
        {"method": method.upper(), "path": path, "summary": op.get("summary", ""),
         "description": op.get("description", ""),
         "parameters": [p["name"] for p in op.get("parameters", [])],
         "body": sorted(((op.get("requestBody") or {}).get("content") or {}).keys()),
         "responses": sorted(op.get("responses", {}).keys())}
        for path, methods in spec["paths"].items() for method, op in methods.items()]
    return render(request, "api_docs.html.j2", account=current_account(request),
                  spec=spec, operations=operations)
