"""Databases for the tests: a temporary SQLite file always, PostgreSQL with TEST_DATABASE_URL.

With TA_REQUIRE_POSTGRES=1 (as CI sets it) a missing or unreachable PostgreSQL fails the run
instead of skipping its tests. The browser tests (tests/browser) likewise: without Chromium or
Playwright they are skipped with one line saying how to run them, and TA_REQUIRE_BROWSER=1 (as CI
sets it) fails the run instead.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from bot.app import App, create_app
from storage.engine import normalise_url
from tests.helpers import make_settings

_schemas = itertools.count(1)


def _postgres_problem() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return "TEST_DATABASE_URL is not set"
    try:
        engine = create_engine(normalise_url(url))
        with engine.connect():
            pass
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means no PostgreSQL for this run
        return f"PostgreSQL at TEST_DATABASE_URL is unreachable: {str(exc).splitlines()[0]}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    """The classifier's model is cached where the test run keeps its own files, not in the home
    directory; processes started by the tests inherit it. The cache is keyed by the corpus, so
    it is safe to keep between runs."""
    cache = getattr(config, "cache", None)  # none with -p no:cacheprovider
    cache = cache.mkdir("classifier") if cache else Path(tempfile.mkdtemp())
    os.environ["XDG_CACHE_HOME"] = str(cache)


CHROMIUM = os.environ.get("TA_CHROMIUM", "/usr/bin/chromium")
HOW_TO_RUN_BROWSER_TESTS = (
    "apt-get install chromium (or TA_CHROMIUM=/path/to/chromium) and make install, "
    "then make test (TA_REQUIRE_BROWSER=1 fails the run when they cannot run)"
)


def _browser_problem() -> str | None:
    try:
        import axe_playwright_python  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright or axe-playwright-python is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM}"
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    problem = _postgres_problem()
    session.config.stash[_PROBLEM] = problem
    if problem and os.environ.get("TA_REQUIRE_POSTGRES") == "1":
        pytest.exit(f"TA_REQUIRE_POSTGRES=1 but {problem}", returncode=1)
    browser = _browser_problem()
    session.config.stash[BROWSER_PROBLEM] = browser
    if browser and os.environ.get("TA_REQUIRE_BROWSER") == "1":
        pytest.exit(f"TA_REQUIRE_BROWSER=1 but {browser}", returncode=1)


_PROBLEM = pytest.StashKey[str | None]()
BROWSER_PROBLEM = pytest.StashKey[str | None]()


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped after the test."""
    problem = request.config.stash[_PROBLEM]
    if problem:
        pytest.skip(problem)
    base = normalise_url(os.environ["TEST_DATABASE_URL"])
    schema = f"ta_test_{os.getpid()}_{next(_schemas)}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    url = base.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Each test that asks for it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'telefono_abierto.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    """The wired application on a freshly migrated database."""
    application = create_app(make_settings(database={"url": database_url}))
    application.migrate()
    yield application
    application.engine.dispose()


def is_postgres(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"
