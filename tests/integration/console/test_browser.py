"""The console in a real headless Chromium against real ingest, router and console processes:
log in with a token, post a lead to ingest, see it on the live board, open its lead page and
trace, reassign it to a named rep; then the new Assignment (its reason naming the actor) is on
leads.assignments and the entry on admin.audit. Screenshots of each page go to the test's
output folder (docs/images/ holds copies for docs/console.md)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

from services.console.settings import Role
from services.leads.events import AdminAudit, Assignment, RequestKind, RoutingRequest
from services.leads.topics import Topic
from services.router.config_source import publish_config
from services.streaming.settings import KafkaSettings
from tests.integration.console.running import TOKENS, read_all
from tests.integration.console.stack import Processes
from tests.unit.console.projection_builders import config_text

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.fail("chromium and chromedriver are missing: run `make test` (it installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,1000",
        "--disable-gpu",
    ):
        options.add_argument(argument)  # fmt: skip
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def stack(topics: KafkaSettings, tmp_path: Path) -> Iterator[Processes]:
    publish_config(topics, config_text(), published_by="test", now_ms=int(time.time() * 1000))
    processes = Processes(topics, tmp_path)
    try:
        processes.start("router", "services.router", "--instance", "0", "--no-metrics")
        processes.start("ingest", "services.ingest", "--no-smtp", "--no-raw", "--no-metrics")
        processes.start("console", "services.console")
        processes.wait_ready("ingest")
        processes.wait_ready("console")
        yield processes
    finally:
        processes.stop()


def snapshot(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page, not only the window: the window grows to the page's height first."""
    height = int(driver.execute_script("return document.documentElement.scrollHeight"))
    driver.set_window_size(1280, min(max(height + 200, 700), 4000))  # + the window's own chrome
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)


def shown(driver: webdriver.Chrome, element_id: str) -> WebElement:
    """The element once the page that has it is loaded (a form post navigates)."""
    return WebDriverWait(driver, 30, poll_frequency=0.2).until(
        lambda d: d.find_element(By.ID, element_id)
    )


def until(driver: webdriver.Chrome, found: Callable[[webdriver.Chrome], bool], url: str) -> None:
    """Reload `url` until `found` holds: the projection follows the topics a moment behind."""

    def reloaded(d: webdriver.Chrome) -> bool:
        try:
            if found(d):
                return True
        except WebDriverException:
            pass
        d.get(url)
        return False

    WebDriverWait(driver, 60, poll_frequency=0.5).until(reloaded)


def test_an_operator_logs_in_watches_a_lead_arrive_and_reassigns_it_by_hand(
    stack: Processes, browser: webdriver.Chrome, topics: KafkaSettings, tmp_path: Path
) -> None:
    console = stack.console_url
    browser.get(f"{console}/")
    browser.find_element(By.ID, "token").send_keys(TOKENS[Role.OPERATOR])
    snapshot(browser, tmp_path / "console-login.png")
    browser.find_element(By.ID, "login").click()
    assert shown(browser, "who").text == "olga (operator)"

    posted = httpx.post(f"{stack.ingest_url}/v1/leads/forms/contact", timeout=15, data={
        "email": "jane.doe@acme.example", "first_name": "Jane", "last_name": "Doe",
        "company": "Acme", "country": "DE", "message": "Pricing for 40 seats?",
    })  # fmt: skip
    assert posted.status_code == 202, posted.text
    lead_id = posted.json()["lead_id"]

    def today_total(d: webdriver.Chrome) -> int:
        return sum(int(cell.text) for cell in d.find_elements(By.CSS_SELECTOR, "td.today"))

    WebDriverWait(  # the board's rows are replaced every 2 s: a row read mid-swap goes stale
        browser, 60, poll_frequency=0.5, ignored_exceptions=(StaleElementReferenceException,)
    ).until(lambda d: today_total(d) == 1)
    snapshot(browser, tmp_path / "console-board.png")

    lead_page = f"{console}/leads/{lead_id}"
    browser.get(lead_page)
    until(browser, lambda d: bool(d.find_elements(By.ID, "assignment-1")), lead_page)
    first_owner = browser.find_element(By.ID, "owner").text
    candidates = browser.find_elements(By.CSS_SELECTOR, "#assignment-1 table.trace tbody tr")
    assert len(candidates) == 3
    snapshot(browser, tmp_path / "console-lead.png")

    target = next(r for r in ("ann", "bob", "cy") if r != first_owner)
    Select(browser.find_element(By.ID, "assign-rep")).select_by_value(target)
    browser.find_element(By.ID, "assign-reason").send_keys("customer asked for them")
    browser.find_element(By.ID, "assign-submit").click()
    assert shown(browser, "notice").text == "reassignment requested"
    until(browser, lambda d: d.find_element(By.ID, "owner").text == target, lead_page)
    assert "request: console: olga: customer asked for them" in browser.find_element(
        By.ID, "assignment-2").text  # fmt: skip
    snapshot(browser, tmp_path / "console-lead-reassigned.png")

    assert_written(topics, lead_id, target)
    visit_reports(browser, console, lead_id, target, tmp_path)


def assert_written(topics: KafkaSettings, lead_id: str, target: str) -> None:
    """The manual Assignment on leads.assignments naming the actor, its request, the audit."""
    assignments = [a for a in read_all(topics, Topic.ASSIGNMENTS, Assignment)
                   if a.lead_id == lead_id]  # fmt: skip
    manual = [a for a in assignments if a.kind is RequestKind.REASSIGN]
    assert [a.rep_id for a in manual] == [target]
    assert manual[0].reason.endswith("manual: console: olga: customer asked for them)")
    requests = {(r.lead_id, r.kind): r for r in read_all(topics, Topic.ROUTING_REQUESTS,
                                                         RoutingRequest)}  # fmt: skip
    asked = requests[(lead_id, RequestKind.REASSIGN)]
    assert asked.reason == "console: olga: customer asked for them"
    assert manual[0].trace.input_topic == topics.topic(Topic.ROUTING_REQUESTS)
    [audit] = read_all(topics, Topic.ADMIN_AUDIT, AdminAudit)
    assert (audit.actor, audit.target, audit.detail["rep_id"]) == ("olga", lead_id, target)
    assert audit.request_ids == (asked.request_id,)


def visit_reports(
    browser: webdriver.Chrome, console: str, lead_id: str, target: str, shots: Path
) -> None:
    """The SLA board, the fairness report and the rules page, as the operator sees them."""
    browser.get(f"{console}/sla")
    timers = browser.find_element(By.ID, "timers").text
    assert lead_id in timers and target in timers  # the new owner's clock runs
    snapshot(browser, shots / "console-sla.png")

    browser.get(f"{console}/fairness?days=1")
    bars = browser.find_elements(By.CSS_SELECTOR, "#fair-emea svg rect.actual")
    assert len(bars) == 3
    snapshot(browser, shots / "console-fairness.png")

    browser.get(f"{console}/config")
    browser.find_element(By.ID, "document").send_keys(config_text(weights=(1, 2, 2)))
    browser.find_element(By.ID, "review").click()
    changes = shown(browser, "review-result").text  # the review is a form post: it navigates
    assert "Against version 1" in changes and not browser.find_elements(By.ID, "publish")
    snapshot(browser, shots / "console-rules.png")
