"""Logging for the service: our own lines, and the libraries' kept quiet.

The HTTP clients log each request's URL (the Telegram token is part of it) and Twilio's logs the
recipient, so they are held at WARNING whatever the level of the rest.
"""

from __future__ import annotations

import logging

# fontTools logs, at INFO, each glyph a document uses (what it says) and the time it was made.
QUIET = (
    "httpx",
    "httpcore",
    "telegram",
    "twilio",
    "urllib3",
    "hpack",
    "apscheduler",
    "fontTools",
    "fpdf",
    "PIL",
    "matplotlib",
)


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
