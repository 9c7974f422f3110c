"""Running the HTTP service under uvicorn."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn

from bot.app import App, utc_now
from bot.http_protocol import headers_within
from bot.logs import configure_logging
from bot.server import build_asgi, build_service

log = logging.getLogger(__name__)


class PortInUse(Exception):
    """The configured address cannot be listened on."""


def _listen(app: App) -> socket.socket:
    settings = app.settings
    try:
        return socket.create_server((settings.server.host, settings.server.port))
    except OSError as exc:
        raise PortInUse(exc.strerror or type(exc).__name__) from exc


def serve(app: App) -> None:
    """Serve the webhooks until interrupted (SIGINT or SIGTERM)."""
    settings = app.settings
    # Bound before anything starts, so that a second instance stops here and sends nothing.
    listener = _listen(app)
    configure_logging(getattr(logging, settings.server.log_level.upper()))
    _all_open_files()
    service = build_service(app, utc_now)
    log.info(
        "listening on %s:%s; channels: %s",
        settings.server.host,
        settings.server.port,
        ", ".join(channel.name for channel in service.channels) or "none (the web desk alone)",
    )
    _server(app, build_asgi(service), on_stopped=app.engine.dispose).run(sockets=[listener])


def _all_open_files() -> None:
    """Every connection is an open file: take as many as the system lets this process have
    (the soft limit is often 1,024, the hard one far more)."""
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ImportError, ValueError, OSError) as exc:  # not on this system, or not allowed
        log.info("open files: the limit stays as it is (%s)", type(exc).__name__)


def serve_beside(app: App) -> Callable[[], None]:
    """Serve the web desk (no channel) in a thread while the console chat runs in the
    terminal; returns what stops it. PortInUse when the address is taken."""
    listener = _listen(app)
    service = build_service(app, utc_now, channels=[])
    server = _server(app, build_asgi(service))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name="desk", daemon=True
    )
    thread.start()

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)

    return stop


class _Server(uvicorn.Server):
    """uvicorn's server, calling `on_stopped` once it has stopped (the application's shutdown,
    the dispatcher's included, done) and before the signal that stopped it is raised again:
    uvicorn catches SIGTERM and SIGINT to shut down gracefully, then raises them again, and
    SIGTERM's default action ends the process at once, with nothing else run."""

    def __init__(self, config: uvicorn.Config, on_stopped: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_stopped = on_stopped

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            try:
                yield
            finally:
                if self._on_stopped is not None:
                    self._on_stopped()


def _server(app: App, asgi, on_stopped: Callable[[], None] | None = None) -> uvicorn.Server:
    """`on_stopped`: what to do when the server has stopped (the service closes its database,
    so that SQLite puts the write-ahead log into the file and removes it)."""
    settings = app.settings
    return _Server(
        uvicorn.Config(
            asgi,
            host=settings.server.host,
            port=settings.server.port,
            log_config=None,
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=10,
            # An idle kept-alive connection is closed after 5 s; a request's headers have the
            # body's time limit to arrive (bot/http_protocol.py), so slow or silent clients
            # cannot hold connections for ever.
            timeout_keep_alive=5,
            http=headers_within(settings.server.body_timeout_seconds),
            # Headers are capped at 16 KiB should uvicorn fall back to h11 (httptools is
            # installed and used; bodies are capped and timed by the application itself).
            h11_max_incomplete_event_size=16 * 1024,
            # No limit_concurrency: it counts idle and slow connections too, and answers 503
            # to everyone beyond it, which is the stall a few slow clients should not cause.
            # X-Forwarded-For is trusted from 127.0.0.1 and ::1 only (the reverse proxy on the
            # same host); FORWARDED_ALLOW_IPS names another proxy's address.
            proxy_headers=True,
        ),
        on_stopped,
    )
