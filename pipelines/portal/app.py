"""The portal's ASGI app: pages, the JSON API, static assets, errors without internals.

``create_app(home)`` builds it for a data folder; ``cadre portal serve`` runs it under uvicorn
(and starts the worker beside it). Nothing here opens the warehouse.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from pipelines.portal import api, pages
from pipelines.portal.web import (
    HERE,
    SECURITY_HEADERS,
    BodyLimit,
    LoginRequired,
    PortalConfig,
    PortalError,
    SecurityHeaders,
    render,
)
from pipelines.settings import DataHome

log = logging.getLogger(__name__)
STATUS_TITLE_ZH = {400: "请求有误", 401: "需要登录", 403: "禁止访问", 404: "页面不存在",
                   405: "不支持的请求", 413: "文件过大", 422: "请求有误", 500: "服务器内部错误"}
GENERIC_ZH = {404: "页面不存在。", 405: "不支持的请求方式。", 500: "服务器内部错误，请稍后重试或联系管理员。"}


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        response: Response = JSONResponse({"message": message, "code": status},
                                          status_code=status)
    else:
        response = render(request, "error.html.j2", status=status,
                          title=STATUS_TITLE_ZH.get(status, "出错了"), message=message,
                          account=None)
    response.headers.update(SECURITY_HEADERS)  # also on 500s, answered outside the middlewares
    return response


def create_app(home: DataHome | None = None) -> FastAPI:
    home = home or DataHome.current()
    app = FastAPI(title="干部能上能下 数据报送平台 API", version="1",
                  description="各联席会议成员单位的数据报送接口。认证：`Authorization: Bearer <令牌>`"
                              "（令牌由管理员用 `cadre portal token create 单位` 生成）。",
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json", debug=False)
    config = PortalConfig.from_settings(home)
    app.state.config = config
    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(pages.docs_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(PortalError)
    async def portal_error(request: Request, exc: PortalError) -> Response:
        return _error(request, exc.status, exc.message_zh)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code,
                      GENERIC_ZH.get(exc.status_code, STATUS_TITLE_ZH.get(exc.status_code,
                                                                          "请求有误") + "。"))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        missing = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return _error(request, 400, "请求缺少或填错了字段：" + "、".join(missing) if missing
                      else "请求格式有误。")

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        log.exception("portal error on %s", request.url.path)  # the trace stays in the log
        return _error(request, 500, GENERIC_ZH[500])

    app.add_middleware(BodyLimit, config=config)
    app.add_middleware(SecurityHeaders)
    return app
