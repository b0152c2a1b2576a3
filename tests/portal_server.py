"""A real portal for the web tests: ``cadre portal serve`` (uvicorn + its worker) as a child
process on 127.0.0.1 at a free port, over its own data folder, with accounts and tokens.

Helpers here speak to it the way a browser or a unit's script does (httpx, real cookies, the
CSRF field scraped from the page)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from pipelines.portal import auth
from pipelines.portal.store import session_scope
from pipelines.settings import PROJECT_ROOT, DataHome
from tests.conftest import valid_id, write_csv

SCREENSHOTS = PROJECT_ROOT / "test-output" / "portal"
PASSWORD = {"aud-clerk": "aud-password-1", "pet-clerk": "pet-password-1",
            "ins-clerk": "ins-password-1", "org-reviewer": "org-password-1",
            "org-clerk": "org-password-2"}
ACCOUNTS = (("AUD", "aud-clerk", (), "审计局经办人"), ("PET", "pet-clerk", (), "信访局经办人"),
            ("INS", "ins-clerk", (), "巡视巡察办经办人"),
            ("ORG", "org-reviewer", ("admin", "reviewer"), "组织部干部监督科"),
            ("ORG", "org-clerk", (), "组织部干部科"))
AUDIT_HEADER = ["审计项目编号", "问题序号", "被审计人身份证号", "被审计人姓名", "审计类型", "问题类别",
                "涉及金额(万元)", "责任类型", "审计评价", "报告日期", "是否移送", "容错免责", "容错依据"]
HOSTILE_TEXT = "<script>alert(1)</script>"


@dataclass
class Portal:
    home: DataHome
    url: str
    process: subprocess.Popen
    tokens: dict[str, str] = field(default_factory=dict)
    log: Path | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def portal_env(home: DataHome, **extra: str) -> dict[str, str]:
    env = {**os.environ, "CADRE_HOME": str(home.root), "CADRE_PORTAL_ARGON2_PROFILE": "test",
           **extra}
    return env


def add_accounts(home: DataHome) -> dict[str, str]:
    """The test accounts, and one API token per unit."""
    os.environ["CADRE_PORTAL_ARGON2_PROFILE"] = "test"
    auth.hasher.cache_clear()
    with session_scope(home) as db:
        for unit, login, roles, name in ACCOUNTS:
            auth.add_account(db, unit, login, PASSWORD[login], roles=roles, display_name=name)
        return {unit: auth.create_token(db, unit) for unit in ("AUD", "PET", "INS")}


@contextmanager
def running_portal(home: DataHome, **env: str) -> Iterator[Portal]:
    """Start ``cadre portal serve`` and wait until it answers; stop it (and its worker) after."""
    home.ensure()
    tokens = add_accounts(home)
    port = free_port()
    log = home.root / "portal-server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli.main", "portal", "serve", "--host",
             "127.0.0.1", "--port", str(port)], env=portal_env(home, **env), stdout=out,
            stderr=subprocess.STDOUT, start_new_session=True, cwd=PROJECT_ROOT)
    portal = Portal(home, f"http://127.0.0.1:{port}", process, tokens, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(portal.url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "portal did not start"
            time.sleep(0.2)
        yield portal
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and the worker it started
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def audit_drop(path: Path, tag: str = "", bad_rows: bool = True) -> Path:
    """An 审计局 drop (UTF-8 BOM CSV): five good rows, and (``bad_rows``) one with a wrong ID
    check digit and one with an unknown 问题类别 whose value is hostile HTML."""
    rows: list[list[object]] = [AUDIT_HEADER]
    for n in range(1, 6):
        rows.append([f"审〔2025〕{n}号{tag}", 1, valid_id(n), f"测试{n}", "经济责任审计", "违规决策",
                     "1,200.5", "直接责任", "较好", "2025-03-05", "否", "否", ""])
    if bad_rows:
        good = valid_id(7)
        wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
        rows.append([f"审〔2025〕9号{tag}", 1, wrong, "测试7", "经济责任审计", "违规决策", "3", "直接责任",
                     "", "2025-03-05", "否", "否", ""])
        rows.append([f"审〔2025〕10号{tag}", 1, valid_id(8), "测试8", "经济责任审计", HOSTILE_TEXT, "3",
                     "直接责任", "", "2025-03-05", "否", "否", ""])
    return write_csv(path, rows, encoding="utf-8-sig")


CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: httpx.Client, path: str = "/login") -> str:
    page = client.get(path)
    match = CSRF_INPUT.search(page.text)
    assert match, page.text[:500]
    return match.group(1)


def login(portal: Portal, login_name: str, password: str | None = None) -> httpx.Client:
    client = httpx.Client(base_url=portal.url, timeout=30)
    token = csrf_of(client)
    answer = client.post("/login", data={"login": login_name, "password":
                                         password or PASSWORD[login_name], "csrf_token": token})
    assert answer.status_code == 303, answer.text[:300]
    return client


def wait_final(portal: Portal, submission_id: str, token: str, timeout: float = 180) -> dict:
    """Poll the API until the submission is final; returns its receipt JSON."""
    deadline = time.monotonic() + timeout
    while True:
        answer = httpx.get(f"{portal.url}/api/v1/submissions/{submission_id}",
                           headers={"Authorization": f"Bearer {token}"}, timeout=30)
        if answer.status_code == 200:
            return answer.json()
        assert answer.status_code == 202, answer.text
        assert time.monotonic() < deadline, f"{submission_id} not final: {answer.text}"
        time.sleep(0.3)


def upload_api(portal: Portal, unit: str, source: str, path: Path,
               name: str | None = None) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(f"{portal.url}/api/v1/submissions",
                          headers={"Authorization": f"Bearer {portal.tokens[unit]}"},
                          data={"source": source},
                          files={"file": (name or path.name, handle, "text/csv")}, timeout=60)
