"""The portal in a real browser: Debian's chromium driven by Playwright against a real uvicorn
(+ worker) on 127.0.0.1. `make browser` (a dependency of `make test`) installs chromium and a
CJK font with apt-get when they are missing.

Screenshots of every page go to test-output/portal/ (git-ignored), on a 1366x768 office
screen and on a phone."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from pipelines import warehouse
from pipelines.settings import DataHome
from tests.portal_server import (
    PASSWORD,
    SCREENSHOTS,
    Portal,
    audit_drop,
    running_portal,
)

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
OFFICE = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
SHARED: dict[str, str] = {}  # what one test leaves for the next (run in file order)


@pytest.fixture(scope="module")
def portal(review_world: tuple[Path, dict[str, str]],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """A portal over a copy of the built review world (flags to decide on)."""
    target = tmp_path_factory.mktemp("browser") / "home"
    shutil.copytree(review_world[0], target)
    home = DataHome(target.resolve())
    with running_portal(home) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "chromium is missing: run `make browser` (apt-get)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=OFFICE, locale="zh-CN", accept_downloads=True)
    yield context.new_page()
    context.close()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def log_in(page: Page, portal: Portal, login: str, password: str | None = None) -> None:
    page.goto(portal.url + "/")
    expect(page).to_have_url(portal.url + "/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password or PASSWORD[login])
    page.click("main button[type=submit]")


def test_audit_office_uploads_and_reads_its_feedback(page: Page, portal: Portal,
                                                     tmp_path: Path) -> None:
    drop = audit_drop(tmp_path / "审计发现_2025年度.csv")
    page.goto(portal.url + "/")
    shot(page, "01_login")
    log_in(page, portal, "aud-clerk")
    expect(page.locator("h1")).to_have_text("我的报送")
    shot(page, "02_my_submissions")
    page.click("text=上传新文件")
    # only what 审计局 may send: its audits, and withdrawals of its own records
    expect(page.locator("select[name=source] option")).to_have_count(2)
    values = page.locator("select[name=source] option").evaluate_all("os => os.map(o => o.value)")
    assert sorted(values) == ["audit_finding", "withdrawal"]
    page.select_option("select[name=source]", "audit_finding")
    page.set_input_files("input[name=file]", str(drop))
    shot(page, "03_upload")
    page.click("main button[type=submit]")
    page.wait_for_url(f"{portal.url}/submissions/up-*")  # the upload's own page
    shot(page, "04_submission_in_progress")
    # the page follows the status by itself (no reload by hand) until it is final
    expect(page.locator("#status")).to_have_text("部分接收", timeout=180_000)
    issues = page.locator("table.issues tbody tr")
    expect(issues).to_have_count(2)
    expect(issues.first).to_contain_text("校验位")
    expect(page.locator("table.issues")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("table.issues")).to_contain_text("问题类别")
    shot(page, "05_submission_final")
    with page.expect_download() as download_info:
        page.click("text=下载反馈表（Excel）")
    download = download_info.value
    assert download.suggested_filename.endswith("_反馈.xlsx")
    saved = tmp_path / "feedback.xlsx"
    download.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"
    SHARED["aud_submission"] = page.url
    page.click("text=模板与说明")
    expect(page.locator("#audit_finding")).to_contain_text("被审计人身份证号")
    shot(page, "06_templates")
    page.click("text=修改密码")
    shot(page, "07_password")
    page.set_viewport_size(PHONE)
    page.goto(SHARED["aud_submission"])
    shot(page, "08_submission_phone")
    page.goto(portal.url + "/submissions")
    shot(page, "09_my_submissions_phone")


def test_petition_office_cannot_open_audits_submission(page: Page, portal: Portal) -> None:
    log_in(page, portal, "pet-clerk")
    expect(page.locator("h1")).to_have_text("我的报送")
    url = SHARED["aud_submission"]
    response = page.goto(url)
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("没有找到这条报送记录")
    response = page.goto(url + "/feedback.xlsx")
    assert response is not None and response.status == 404
    page.goto(portal.url + "/submissions")
    expect(page.locator("main")).not_to_contain_text("审计发现_2025年度.csv")
    shot(page, "10_other_unit_404")


def test_five_wrong_passwords_lock_the_login(page: Page, portal: Portal) -> None:
    for _ in range(5):
        log_in(page, portal, "ins-clerk", "wrong-password")
        expect(page.locator(".error")).to_be_visible()
    expect(page.locator(".error")).to_contain_text("已被锁定15分钟")
    log_in(page, portal, "ins-clerk")  # the right password, too late
    expect(page.locator(".error")).to_contain_text("已被锁定15分钟")
    shot(page, "11_locked")


def test_reviewer_records_a_decision_through_the_state_machine(page: Page,
                                                               portal: Portal) -> None:
    log_in(page, portal, "org-reviewer")
    page.click("text=线索与决定")
    for _ in range(60):  # the worker writes the flags view when it starts
        if page.locator("section.flag").count():
            break
        page.wait_for_timeout(1000)
        page.reload()
    card = page.locator("section.flag", has_text="甲一").filter(has_text="A1").first
    expect(card).to_contain_text("待核实")
    expect(card.locator("table")).to_contain_text("第")  # evidence with file and row
    shot(page, "12_review")
    flag_id = card.locator("dd").first.inner_text()
    # a decision dated tomorrow: the state machine refuses it, and says why
    card.locator("summary").click()
    card.locator("select[name=action]").select_option("clear")
    card.locator("input[name=decided_on]").fill((date.today() + timedelta(days=1)).isoformat())
    card.locator("textarea[name=reason]").fill("核实后不予认定（浏览器测试）")
    card.locator("button[type=submit]").click()
    expect(page.locator("#requests")).to_contain_text("晚于今天", timeout=60_000)
    card = page.locator(f"#flag-{flag_id}")
    card.locator("summary").click()
    card.locator("select[name=action]").select_option("clear")
    card.locator("textarea[name=reason]").fill("核实后不予认定（浏览器测试）")
    card.locator("button[type=submit]").click()
    expect(page.locator("#requests")).to_contain_text("已登记", timeout=60_000)
    shot(page, "13_review_decided")
    with warehouse.writer(portal.home.warehouse_file) as con:
        logged = con.execute("select action, decided_by, recorded_via, to_state from "
                             "decisions.decision_log where flag_id = ?", [flag_id]).fetchall()
    assert logged == [("clear", "组织部干部监督科", "portal", "cleared")]
    # and, as after `cadre decide`, the analysts' snapshot is republished with it
    for _ in range(120):
        if portal.home.published_file.exists():
            with duckdb.connect(str(portal.home.published_file), read_only=True) as snapshot:
                cleared = snapshot.execute("select count(*) from decisions.decision_log "
                                           "where action = 'clear'").fetchone()[0]
            if cleared == 1:
                break
        page.wait_for_timeout(500)
    assert cleared == 1
