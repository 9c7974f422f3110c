"""The browser tests' shared parts: the system's Chromium driven by Playwright, headless, the
real service and the provider stand-in (as the end-to-end tests of the channels have them).

Without Chromium or Playwright every test here is skipped with one reason (one line in the
summary); TA_REQUIRE_BROWSER=1 fails the run instead (tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import BROWSER_PROBLEM, CHROMIUM, HOW_TO_RUN_BROWSER_TESTS
from tests.e2e import conftest as channels
from tests.e2e.channels import Service


@pytest.fixture(scope="module")
def chromium(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Module-scoped, not session-scoped: while Playwright's sync API is started, its event
    loop counts as running on the main thread, and every later test that calls asyncio.run()
    would fail."""
    problem = request.config.stash.get(BROWSER_PROBLEM, None)
    if problem:
        pytest.skip(f"browser tests: {problem}; to run them, {HOW_TO_RUN_BROWSER_TESTS}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium) -> Iterator[Any]:
    context = chromium.new_context(
        locale="es-SV", viewport={"width": 1280, "height": 900}, device_scale_factor=1
    )
    context.set_default_timeout(60_000)  # bounds a hang on a busy machine, not a speed
    browser_page = context.new_page()
    yield browser_page
    context.close()


provider = channels.provider  # the channels' provider stand-in, the same fixture


@pytest.fixture
def service(tmp_path, provider) -> Iterator[Service]:
    """The real service on SQLite (the desk's pages are the same on PostgreSQL, which
    tests/integration/test_desk.py covers)."""
    running = Service(tmp_path, f"sqlite:///{tmp_path / 'mesa.db'}", provider).start()
    yield running
    running.stop()
