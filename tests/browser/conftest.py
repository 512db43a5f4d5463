import os
from pathlib import Path

import pytest

SCREENS = os.environ.get("AKUN_SCREENS_DIR", "")

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Debian's chromium is missing: run scripts/ensure-chromium.sh (make test does)")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # (creating accounts, reading the outbox) are still plain synchronous code.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID")
    yield ctx.new_page()
    ctx.close()


@pytest.fixture
def desktop(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, locale="id-ID")
    yield ctx.new_page()
    ctx.close()


def shot(page, name):
    """A full-page screenshot into AKUN_SCREENS_DIR, when set (for looking at the pages)."""
    if SCREENS:
        Path(SCREENS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENS) / f"{name}.png"), full_page=True)


def fits(page):
    """Nothing wider than the screen: no sideways scrolling on a 360-px phone."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width
