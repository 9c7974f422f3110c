"""What the end-to-end tests of the channels share: the provider stand-in and the service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.channels import ACCOUNT_SID, BOT_TOKEN, Service
from tests.provider import Provider


@pytest.fixture
def provider() -> Iterator[Provider]:
    stand_in = Provider(BOT_TOKEN, ACCOUNT_SID).start()
    yield stand_in
    stand_in.stop()


@pytest.fixture
def service(tmp_path, database_url, provider) -> Iterator[Service]:
    running = Service(tmp_path, database_url, provider).start()
    yield running
    running.stop()


@pytest.fixture
def debug_service(tmp_path, database_url, provider) -> Iterator[Service]:
    """The service logging at DEBUG, for the tests that read its log for personal data."""
    debug = Service(tmp_path, database_url, provider)
    debug.env["TA_SERVER__LOG_LEVEL"] = "debug"
    yield debug.start()
    debug.stop()
