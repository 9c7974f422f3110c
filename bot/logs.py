"""Logging for the service: our own lines, and the libraries' kept quiet.

The HTTP clients log each request's URL (the Telegram token is part of it) and Twilio's logs the
recipient, so they are held at WARNING whatever the level of the rest.
"""

from __future__ import annotations

import logging

QUIET = ("httpx", "httpcore", "telegram", "twilio", "urllib3", "hpack", "apscheduler")


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
