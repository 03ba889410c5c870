"""Headless Chromium for the browser tests: Debian's /usr/bin/chromium, never a download."""

from __future__ import annotations

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium for the module; each test gets its own context (cookies, viewport).

    Without Chromium or Playwright the tests fail under CI (it must have them) and are skipped,
    saying why, elsewhere.
    """
    reason = None
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "the Python package playwright is missing: pip install -e '.[test]'"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def click_and_load(page, locator, status: int = 200):
    """Click a submit button or a link and wait for the page it leads to (after redirects).

    Playwright's click() returns once a navigation has started, not once it has ended: what is
    read straight after (page.content(), page.url, a count) can be the old page or none at all
    (page.content() once returned '' in CI). Clicks that stay on the page need none of this.
    """
    with page.expect_navigation() as navigation:
        locator.click()
    response = navigation.value
    assert response is not None and response.status == status, (
        page.url,
        response and response.status,
    )
    page.wait_for_load_state("load")
    return response
