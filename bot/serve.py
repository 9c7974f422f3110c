"""Running the HTTP service under uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from bot.app import App, utc_now
from bot.logs import configure_logging
from bot.server import build_asgi, build_service

log = logging.getLogger(__name__)


def serve(app: App) -> None:
    """Serve the webhooks until interrupted (SIGINT or SIGTERM)."""
    configure_logging()
    settings = app.settings
    asgi = build_asgi(build_service(app, utc_now))
    log.info(
        "listening on %s:%s; channels: %s",
        settings.server.host,
        settings.server.port,
        ", ".join(settings.channels_enabled),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            asgi,
            host=settings.server.host,
            port=settings.server.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
        )
    )
    server.run()
