"""uvicorn's HTTP protocol with a time limit on a request's headers.

uvicorn closes an idle kept-alive connection (`timeout_keep_alive`), but a connection that never
sends a request, or sends its headers a byte at a time, stays open for as long as the client
likes; thousands of them use up the process's open files, and then nobody is served. Here a
request's line and headers must all arrive within the limit, counted from when the connection
opens or the request's first byte arrives; otherwise the connection is closed. (The body has its
own limit, kept by the application: bot/server.py.)"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class HeadersInTime(HttpToolsProtocol):
    header_seconds = 10.0
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:  # the next request on a kept-alive connection
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._header_timer = self.loop.call_later(self.header_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def headers_within(seconds: float) -> type[HeadersInTime]:
    """The protocol class for uvicorn's `http` setting, with this limit."""
    return type("HeadersInTime", (HeadersInTime,), {"header_seconds": seconds})
