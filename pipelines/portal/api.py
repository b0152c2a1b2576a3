"""JSON API for the units' own scripts: ``Authorization: Bearer <token>`` (``cadre portal token
create UNIT``). A token belongs to one unit and sees that unit's submissions only. Errors are
JSON with a Chinese ``message``. Every call with a token is written to the audit log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel
from starlette.responses import JSONResponse, Response

from pipelines import contracts
from pipelines.portal import auth
from pipelines.portal import submissions as subs
from pipelines.portal.store import audit, session_scope
from pipelines.portal.web import (
    XLSX,
    PortalError,
    client_address,
    config_of,
    template_response,
    too_large_message,
)

router = APIRouter(prefix="/api/v1", tags=["units"])


def token_unit(request: Request, what: str) -> str:
    """The unit of the request's bearer token (audited), else 401."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    config = config_of(request)
    with session_scope(config.home) as db:
        found = auth.token_unit(db, token.strip()) if scheme.lower() == "bearer" else None
        audit(db, "token_use" if found else "token_refused", unit=found.unit if found else None,
              account=f"token:{found.id}" if found else None, client=client_address(request),
              detail=what)
        if found is None:
            raise PortalError(401, "缺少或无效的访问令牌（Authorization: Bearer <令牌>）。")
        return found.unit


class Queued(BaseModel):
    submission_id: str
    status: str
    status_zh: str
    source: str
    filename: str
    sha256: str
    poll_url: str


class Listed(BaseModel):
    submission_id: str
    unit: str
    source: str
    filename: str
    status: str
    status_zh: str
    received_at: str
    final: bool
    rows_read: int | None
    rows_accepted: int | None
    rows_quarantined: int | None


class Message(BaseModel):
    message: str


@router.post("/submissions", status_code=202, response_model=Queued,
             responses={403: {"model": Message}, 413: {"model": Message}},
             summary="上传一个文件（multipart：source、file），返回可查询的编号")
async def post_submission(request: Request, source: str = Form(...),
                          file: UploadFile = File(...)) -> JSONResponse:
    unit = token_unit(request, f"POST submissions {source}")
    config = config_of(request)
    data = await file.read()
    if len(data) > config.upload_limit:
        raise PortalError(413, too_large_message(config))
    try:
        with session_scope(config.home) as db:
            upload = subs.accept_upload(db, config.home, unit=unit, sent_by="token", source=source,
                                        filename=file.filename, data=data)
            audit(db, "upload", unit=unit, account="token", client=client_address(request),
                  detail=f"{upload.upload_id} {source} {upload.sha256} {len(data)}B")
            body = Queued(submission_id=upload.upload_id, status=upload.status,
                          status_zh=subs.STATUS_ZH[upload.status], source=source,
                          filename=upload.filename, sha256=upload.sha256,
                          poll_url=f"/api/v1/submissions/{upload.upload_id}")
    except subs.UploadRefused as refused:
        raise PortalError(refused.status, refused.message_zh) from refused
    return JSONResponse(body.model_dump(), status_code=202)


@router.get("/submissions", response_model=list[Listed], summary="本单位的报送记录")
def list_submissions(request: Request) -> list[dict[str, Any]]:
    unit = token_unit(request, "GET submissions")
    config = config_of(request)
    with session_scope(config.home) as db:
        rows = subs.listing(db, config.home, unit)
    return [{"submission_id": r.id, "unit": r.unit, "source": r.source, "filename": r.filename,
             "status": r.status, "status_zh": r.status_zh, "received_at": r.received_at,
             "final": r.final, "rows_read": r.rows_read, "rows_accepted": r.rows_accepted,
             "rows_quarantined": r.rows_quarantined} for r in rows]


@router.get("/submissions/{submission_id}", summary="一次报送的回执",
            description="处理完毕：200，与 `cadre submit --json` 相同的回执（反馈文件只给文件名）；"
                        "处理中：202，`submission_id` 与 `status`。",
            responses={404: {"model": Message}})
def get_submission(request: Request, submission_id: str) -> JSONResponse:
    unit = token_unit(request, f"GET submissions/{submission_id}")
    config = config_of(request)
    with session_scope(config.home) as db:
        found = subs.find(db, config.home, unit, submission_id)
    if found is None:
        raise PortalError(404, "没有找到这条报送记录。")
    if found.receipt is not None:
        return JSONResponse(subs.public_receipt(found.receipt))
    assert found.upload is not None
    return JSONResponse({"submission_id": found.id, "status": found.status,
                         "status_zh": subs.STATUS_ZH.get(found.status, found.status),
                         "final": False, "warehouse_submission_id": found.upload.submission_id},
                        status_code=202)


@router.get("/templates/{source}", summary="某数据类别的 XLSX 模板",
            responses={200: {"content": {XLSX: {}}}, 404: {"model": Message}})
def get_template(request: Request, source: str) -> Response:
    token_unit(request, f"GET templates/{source}")
    if source not in contracts.source_names():
        raise PortalError(404, f"没有这个数据类别：{source}")
    return template_response(source)
