"""An operator finds a case in the stock Temporal Web UI by a search-attribute filter and reads it
there: headless Chromium (Debian's package, which `make test` installs) on the dev server's UI.

The screenshot is kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Frame, Page, async_playwright

from osom.settings import REPO_ROOT
from tests.e2e.conftest import Osom, Server
from tests.e2e.test_lifecycle_gate import wait_for

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("OSOM_CHROMIUM", "/usr/bin/chromium")
# Headless, and nothing that reaches for the internet (this machine's network is closed).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
WAIT_MS = 20_000


async def frame_with(page: Page, text: str) -> Frame:
    """The frame (the page or the UI's Markdown iframe) that shows ``text``."""
    for _ in range(WAIT_MS // 250):
        for frame in page.frames:
            try:
                if text in await frame.inner_text("body"):
                    return frame
            except Exception:  # a frame still loading
                continue
        await page.wait_for_timeout(250)
    raise AssertionError(f"no frame shows {text!r}")


async def test_an_operator_finds_a_case_by_filter_and_reads_it(
    osom: Osom, server: Server, tmp_path: Path
) -> None:
    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} missing: `make test` installs Debian's chromium"
    osom.ok(
        "start", "coe", "--service", "SVC-002", "--as", "P-011", "--id", "COE-UI-1",
        "--problem", "Expired certificate on the shared ingress",
        "--detected", "2026-11-23T07:04Z", "--mitigated", "2026-11-23T07:49Z",
    )  # fmt: skip
    wait_for(osom, "COE-UI-1", lambda s: s["state"] == "DRAFT", "opened")
    query = quote('OsomProcess = "coe" AND OsomState = "DRAFT" AND OsomServiceId = "SVC-002"')

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 1400, "height": 1100})
        page.set_default_timeout(WAIT_MS)
        await page.goto(f"{server.ui_url}/namespaces/default/workflows?query={query}")
        for _ in range(40):  # visibility follows the case a moment behind
            if await page.get_by_role("link", name="coe/COE-UI-1").count():
                break
            await page.reload()
            await page.wait_for_timeout(500)
        await page.get_by_role("link", name="coe/COE-UI-1").first.click()

        await page.get_by_text("User Metadata").first.click()
        details = await frame_with(page, "What is blocking this case")
        text = await details.inner_text("body")
        assert "Affected service: SVC-002 Hosting Platform" in text
        assert "C2 coe_published" in text
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "web-ui-coe-current-details.png"
        await page.screenshot(path=str(shot))

        await page.get_by_text("Search Attributes").first.click()
        attributes = await frame_with(page, "OsomOverdueActions")
        shown = await attributes.inner_text("body")
        for expected in (
            '"OsomState": "DRAFT"',
            '"OsomCaseId": "COE-UI-1"',
            '"OsomProcess": "coe"',
        ):
            assert expected in shown
        await page.screenshot(path=str(ARTIFACTS / "web-ui-coe-search-attributes.png"))
        await browser.close()
    print(f"screenshots kept in {ARTIFACTS}")
