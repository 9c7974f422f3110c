"""python-telegram-bot's requests over aiohttp, through the library's own extension point
(telegram.request.BaseRequest): its default transport, httpx, costs about three times the CPU
per request (0.73 against 0.20 ms to a local server), and a Telegram reply is the service's
dearest send. aiohttp is already the transport of Twilio's asynchronous client."""

from __future__ import annotations

import asyncio

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# HTTPXRequest's defaults, which python-telegram-bot's builder would otherwise use.
READ_TIMEOUT = CONNECT_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0  # an upload (a PDF, a photo): the whole request, sent and answered
POOL_SIZE = 256  # the builder's connection pool for the Bot's requests


class AiohttpRequest(BaseRequest):
    """One aiohttp session for the Bot's requests: parameters sent form-encoded (each value
    JSON-encoded by the library), files as multipart, timeouts as the library asks them."""

    def __init__(
        self,
        *,
        read_timeout: float | None = READ_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_size: int = POOL_SIZE,
    ) -> None:
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_size = pool_size
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self._open()

    def _open(self) -> aiohttp.ClientSession:
        """The session, opened on first use in the running event loop (a session serves only the
        loop it was opened in; one a finished loop left behind is replaced)."""
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector, headers={"User-Agent": self.USER_AGENT}
            )
            self._loop = loop
        return self._session

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._open()
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if _default(read_timeout) else read_timeout
        connect = self._connect_timeout if _default(connect_timeout) else connect_timeout
        # aiohttp has no write timeout: an upload is bounded as a whole instead.
        total = MEDIA_WRITE_TIMEOUT + (read or 0) if files else None
        timeout = aiohttp.ClientTimeout(total=total, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            data = aiohttp.FormData(fields or {})
            for name, (filename, content, mimetype) in files.items():
                data.add_field(name, content, filename=filename, content_type=mimetype)
        try:
            async with session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _default(value: object) -> bool:
    """Whether the library passed a default marker (DEFAULT_NONE) rather than a value."""
    return isinstance(value, type(BaseRequest.DEFAULT_NONE))
