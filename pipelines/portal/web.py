"""What every page and API route shares: configuration, templates, cookies, CSRF, the signed-in
account, and the two ASGI middlewares (body size limit, security headers).

The size limit is ours because Starlette has none: a request body over the limit gets 413
before any handler runs, so nothing is archived, queued or stored.
"""

from __future__ import annotations

import hmac
import secrets
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pipelines import settings
from pipelines.portal import auth
from pipelines.portal.store import Account, session_scope
from pipelines.settings import DataHome

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "cadre_session"
CSRF_COOKIE = "cadre_csrf"
CSRF_FIELD = "csrf_token"
MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around the file
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


@dataclass(frozen=True)
class PortalConfig:
    home: DataHome
    upload_limit: int  # bytes
    session_lifetime: timedelta
    secure_cookies: bool

    @classmethod
    def from_settings(cls, home: DataHome) -> PortalConfig:
        return cls(home=home,
                   upload_limit=int(float(settings.get("CADRE_PORTAL_UPLOAD_LIMIT_MB"))
                                    * 1024 * 1024),
                   session_lifetime=timedelta(
                       minutes=int(settings.get("CADRE_PORTAL_SESSION_MINUTES"))),
                   secure_cookies=settings.get("CADRE_PORTAL_SECURE_COOKIES").lower()
                   in ("1", "true", "yes"))

    @property
    def upload_limit_zh(self) -> str:
        return f"{self.upload_limit / 1024 / 1024:g} MB"


class PortalError(Exception):
    """An answer for the user: HTTP status and a Chinese message (never internals)."""

    def __init__(self, status: int, message_zh: str) -> None:
        super().__init__(message_zh)
        self.status = status
        self.message_zh = message_zh


class LoginRequired(Exception):
    """A page needs a signed-in account: answered with a redirect to /login."""


def too_large_message(config: PortalConfig) -> str:
    return f"文件超过大小上限（{config.upload_limit_zh}），未保存。请拆分后分批上传。"


class BodyLimit:
    """413 for a request body over the upload limit (plus the multipart overhead)."""

    def __init__(self, app: ASGIApp, config: PortalConfig) -> None:
        self.app = app
        self.config = config
        self.limit = config.upload_limit + MULTIPART_OVERHEAD

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send)
            return
        chunks, size = [], 0
        while True:  # buffer the body (at most the limit) so an undeclared size is caught too
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            size += len(body)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = too_large_message(self.config)
        if scope["path"].startswith("/api/"):
            response: Response = JSONResponse({"message": message, "code": "too_large"}, 413)
        else:
            response = HTMLResponse(render_plain_error("文件过大", message), 413)
        response.headers["connection"] = "close"
        for name, value in SECURITY_HEADERS.items():
            response.headers[name] = value
        await response(scope, receive, send)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        message["headers"].append((name.encode(), value.encode()))
            await send(message)

        await self.app(scope, receive, with_headers)


TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_plain_error(title: str, message: str) -> str:
    return TEMPLATES.get_template("error.html.j2").render(
        title=title, message=message, account=None, csrf_token="", nav=None)


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def config_of(request: Request) -> PortalConfig:
    return request.app.state.config


def current_account(request: Request) -> Account | None:
    config = config_of(request)
    with session_scope(config.home) as db:
        return auth.session_account(db, request.cookies.get(SESSION_COOKIE))


def require_account(request: Request, role: str | None = None) -> Account:
    account = current_account(request)
    if account is None:
        raise LoginRequired()
    if role is not None and not account.has_role(role):
        raise PortalError(404, "页面不存在")
    return account


def scope_unit(account: Account) -> str | None:
    """Whose submissions the account sees: its unit's, or (ORG admin) everybody's."""
    return None if account.has_role("admin") else account.unit


def csrf_token(request: Request) -> str:
    """The request's CSRF token: the cookie's, or a new one (set on the response by render)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing
    token = getattr(request.state, "new_csrf", None) or secrets.token_urlsafe(32)
    request.state.new_csrf = token
    return token


def check_csrf(request: Request, submitted: object) -> None:
    """Double-submit check: the form's token must equal the cookie's (SameSite=Strict)."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    if not cookie or not isinstance(submitted, str) or \
            not hmac.compare_digest(cookie.encode(), submitted.encode()):
        raise PortalError(403, "页面已过期或请求来源不明（CSRF 校验失败），请刷新页面后重试。")


def set_cookie(response: Response, config: PortalConfig, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict",
                        secure=config.secure_cookies, path="/")


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    account = context.pop("account", None)
    token = csrf_token(request)
    html = TEMPLATES.get_template(template).render(
        account=account, csrf_token=token, csrf_field=CSRF_FIELD, nav=template, **context)
    response = HTMLResponse(html, status)
    if getattr(request.state, "new_csrf", None):
        set_cookie(response, config_of(request), CSRF_COOKIE, token)
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_response(source: str) -> Response:
    """The XLSX template of ``source`` (``cadre template``'s), as a download."""
    from pipelines import contracts  # noqa: PLC0415
    from pipelines.ingest.templates import write_template  # noqa: PLC0415

    title = contracts.load_contract(source).title_zh
    with tempfile.TemporaryDirectory() as folder:
        data = Path(write_template(source, Path(folder) / f"{source}.xlsx")).read_bytes()
    return Response(data, media_type=XLSX, headers={
        "content-disposition": f"attachment; filename=\"{source}_template.xlsx\"; "
                               f"filename*=UTF-8''{quote(title + '_模板.xlsx')}"})
