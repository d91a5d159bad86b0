"""The dashboard in a real browser: headless Debian chromium driven by selenium against a real `python -m app serve`
on the demo province. Signs in, visits every page, checks the figures shown against the API's JSON, fails on any
browser console error, and keeps a screenshot of every page (printed path; var/screenshots/ by default).

Never skipped: without chromium and chromedriver (`.ci/run` installs Debian's `chromium chromium-driver`) it fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from pathlib import Path

import httpx
import pytest

from app.demo import province
from app.enums import Role
from app.kernel.config import ROOT
from app.kernel.db import session_scope
from app.registry import organisations
from tests.conftest import TEST_DATABASE_URL
from tests.live_server import LiveServer

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "var" / "screenshots"))


def _browser():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    if missing:
        pytest.fail(f"the browser test needs Debian's chromium and chromium-driver ({', '.join(missing)} missing): "
                    "apt-get install -y --no-install-recommends chromium chromium-driver")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=vi",
                "--window-size=1366,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Visit:
    """The browser, the API beside it, and the checks every page gets (console errors, screenshot)."""

    def __init__(self, driver, base: str, keys: dict[str, str]) -> None:
        self.driver, self.base, self.keys = driver, base, keys
        self.console: list[str] = []

    def api(self, path: str, role: str = "admin", **params) -> dict:
        response = httpx.get(f"{self.base}/api/v1{path}", params=params, timeout=60,
                             headers={"Authorization": f"Bearer {self.keys[role]}"})
        assert response.status_code == 200, response.text
        return response.json()

    def open(self, path: str, shot: str, status: int = 200):
        from selenium.webdriver.common.by import By

        self.driver.get(f"{self.base}{path}")
        body = self.driver.find_element(By.TAG_NAME, "body")
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1366, min(max(int(height), 900), 6000))
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(SHOTS / f"{shot}.png"))
        self.driver.set_window_size(1366, 900)
        # A page answered with an error status on purpose logs that status, and nothing else may be logged.
        expected = f"the server responded with a status of {status}"
        severe = [e["message"] for e in self.driver.get_log("browser")
                  if e["level"] == "SEVERE" and not (status != 200 and expected in e["message"])]
        assert not severe, f"browser console errors on {path}: {severe}"
        return body

    def figure(self, name: str) -> str:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, f'[data-figure="{name}"]').get_attribute("data-value")

    def all(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def sign_in(self, role: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.delete_all_cookies()
        self.open("/", f"00-sign-in-{role}")
        assert "/dashboard/sign-in" in self.driver.current_url  # no session: the sign-in page
        self.driver.find_element(By.ID, "key").send_keys(self.keys[role])
        self.driver.find_element(By.ID, "sign-in").click()
        # click() may return before the POST's redirect lands (the overview builds the province's snapshot, slow
        # on a loaded machine): wait for the navigation, then check where it went.
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(self.driver, 60).until(lambda d: "/dashboard/sign-in" not in d.current_url)
        assert self.driver.current_url.endswith("/dashboard/overview"), self.driver.current_url
        cookie = self.driver.get_cookie("dm_session")
        assert cookie and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert self.keys[role] not in cookie["value"]


@pytest.fixture
async def demo_keys() -> dict[str, str]:
    async with session_scope() as session:
        await province.load(session)
        keys = {}
        for role, org in (("admin", "STC"), ("planner", "SKHDT"), ("owner", "BQL-GT")):
            organisation = await organisations.get_by_code(session, org)
            _, keys[role] = await organisations.create_api_key(session, organisation_id=organisation.id,
                                                               role=Role(role), name=f"browser {role}")
    return keys


async def test_dashboard_in_chromium_matches_the_api(demo_keys, tmp_path):
    await asyncio.to_thread(_drive, demo_keys, tmp_path)  # selenium and httpx block: off the event loop


def _drive(demo_keys: dict[str, str], tmp_path: Path) -> None:
    started = time.monotonic()
    driver = _browser()
    server = LiveServer(TEST_DATABASE_URL, tmp_path / "server.log")
    try:
        server.start(timeout=60)
        v = Visit(driver, server.url, demo_keys)
        proposal = httpx.post(f"{server.url}/api/v1/reallocation-proposals", json={"plan_year": 2024,
                              "title": "Điều chuyển vốn đợt 1"}, timeout=120, headers={
                              "Authorization": f"Bearer {demo_keys['planner']}", "Idempotency-Key": "browser-1"})
        assert proposal.status_code == 201, proposal.text
        v.sign_in("admin")
        _overview(v)
        _rankings(v)
        _flags(v)
        _advances(v)
        _proposal(v, proposal.json())
        _project(v)
        _owner_scope(v)
    finally:
        driver.quit()
        server.stop()
    shots = len(list(SHOTS.glob("*.png")))
    print(f"\nscreenshots: {SHOTS} ({shots} files); browser test {time.monotonic() - started:.1f} s")


def _overview(v: Visit) -> None:
    for as_of, shot in ((None, "01-overview"), ("2024-06-30", "02-overview-2024-06-30")):
        v.open("/dashboard/overview" + (f"?as_of={as_of}" if as_of else ""), shot)
        expected = v.api("/summaries", **({"as_of": as_of} if as_of else {}))["province"]
        for name in ("plan_vnd", "disbursed_vnd", "forecast_vnd", "at_risk_vnd", "projects"):
            assert int(v.figure(name)) == expected[name], name
        for name in ("rate_pct", "forecast_rate_pct"):
            assert float(v.figure(name)) == expected[name], name
        assert v.all("svg polyline") and v.all("svg desc")
        for cell in v.all("[data-flag-count]"):
            assert int(cell.text) == expected["flag_counts"][cell.get_attribute("data-flag-count")]


def _rankings(v: Visit) -> None:
    for group_by in ("investor", "location", "sector", "capital_source", "working_group", "lead_official"):
        v.open(f"/dashboard/rankings?group_by={group_by}", f"03-rankings-{group_by}")
        expected = v.api("/summaries", group_by=group_by, sort="rate")["groups"]
        shown = [(r.get_attribute("data-key"), int(r.get_attribute("data-plan")),
                  int(r.get_attribute("data-disbursed"))) for r in v.all("#ranking tbody tr")]
        assert shown == [(g["key"] or "", g["plan_vnd"], g["disbursed_vnd"]) for g in expected], group_by


def _flags(v: Visit) -> None:
    counts = v.api("/summaries")["province"]["flag_counts"]
    for flag in ("slow", "stalled", "at_risk", "able_to_absorb"):
        v.open(f"/dashboard/flags?flag={flag}", f"04-flags-{flag}")
        assert int(v.all("[data-count]")[0].get_attribute("data-count")) == counts.get(flag, 0)
        first = v.all("#flagged tbody tr")[0]
        project_id = first.get_attribute("data-project")
        indicators = v.api(f"/projects/{project_id}/indicators")
        assert flag in {f["code"] for f in indicators["flags"]}
        assert first.find_elements("css selector", ".numbers dd"), "each flag shows its numbers"


def _advances(v: Visit) -> None:
    v.open("/dashboard/advances", "05-advances")
    expected = v.api("/treasury/overdue-advances", page_size=1)
    assert int(v.figure("total_overdue_vnd")) == expected["total_overdue_vnd"]
    for row in v.all("#buckets tbody tr"):
        total = expected["totals"][row.get_attribute("data-bucket")]
        assert (int(row.get_attribute("data-count")), int(row.get_attribute("data-value"))) == (
            total["count"], total["overdue_vnd"])
    assert len(v.all("#cases tbody tr")) == len(v.api("/recovery-cases", page_size=500)["items"])
    assert len(v.all("#pending tbody tr")) == max(1, len(v.api("/dossiers", pending_without_reason="true",
                                                                page_size=500)["items"]))


def _proposal(v: Visit, drafted: dict) -> None:
    v.open("/dashboard/proposals", "06-proposals")
    v.open(f"/dashboard/proposals/{drafted['id']}", "07-proposal")
    assert v.figure("status") == "draft"
    assert int(v.figure("moved_vnd")) == drafted["moved_vnd"]
    assert int(v.figure("transfer_count")) == drafted["transfer_count"] == len(v.all("#transfers tbody tr"))
    assert sum(int(c.get_attribute("data-amount")) for c in v.all("#transfers [data-amount]")) == drafted["moved_vnd"]


def _project(v: Visit) -> None:
    project_id = v.api("/recovery-cases", page_size=1)["items"][0]["project_id"]  # one with advances and a case
    for as_of, shot in ((None, "08-project"), ("2024-05-31", "09-project-2024-05-31")):
        v.open(f"/dashboard/projects/{project_id}" + (f"?as_of={as_of}" if as_of else ""), shot)
        expected = v.api(f"/projects/{project_id}/indicators", **({"as_of": as_of} if as_of else {}))
        for name in ("plan_vnd", "disbursed_vnd"):
            assert int(v.figure(name)) == expected[name], name
        assert int(v.figure("confirmed_vnd")) + int(v.figure("reported_vnd")) == expected["disbursed_vnd"]
        assert {r.get_attribute("data-origin") for r in v.all("#disbursements tbody tr[data-origin]")} <= {
            "treasury", "owner"}


def _owner_scope(v: Visit) -> None:
    v.sign_in("owner")
    assert not [a for a in v.all("header nav a") if "/advances" in a.get_attribute("href")]
    v.open("/dashboard/advances", "10-owner-advances-forbidden", status=403)
    assert "không được xem" in v.driver.page_source  # treasury.read, as GET /treasury/overdue-advances: 403
    assert httpx.get(f"{v.base}/api/v1/treasury/overdue-advances", headers={
        "Authorization": f"Bearer {v.keys['owner']}"}).status_code == 403
