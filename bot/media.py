"""Fetching the files citizens send, in the background, from the provider's own hosts only.

The case keeps the provider's reference from the moment the message arrives; the file is
downloaded later with the channel's credentials, checked against a size limit and an allow list
of types, and stored once under its SHA-256. A failed download never fails the case.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import filetype
import httpx

from bot.config import MediaSettings
from bot.documents import to_the_day

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
MAX_REDIRECTS = 3
TWILIO_HOSTS = (".twilio.com", ".twiliocdn.com")
# The account's credentials go to Twilio's API host only, never to its CDN or a redirect.
TWILIO_API_HOST = "api.twilio.com"


class Refused(Exception):
    """The file will never be fetched: a host, size or type we do not accept."""


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str


class Fetch(Protocol):
    """Downloads one file of a channel, by its reference and declared type."""

    async def __call__(self, ref: str, declared: str | None) -> Download: ...

    async def close(self) -> None: ...


# Media of accounts without "HTTP auth on media URLs" is served from Twilio's S3 bucket.
TWILIO_BUCKET = ("s3-external-1.amazonaws.com", "/media.twiliocdn.com/")
_STORED_NAME = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,8}")


def normalised_url(url: str, plain_http: tuple[str, ...] = ()) -> str | None:
    """The URL with its path's percent-encoding and dot segments resolved, so that what is
    checked is what is fetched; None for anything a provider would never send: another scheme
    (plain http only for the `plain_http` hosts: a local stand-in), user info, a port other
    than https's own (any for the stand-in), backslashes, encoded slashes, double encoding,
    control characters or a host that is not plain ASCII."""
    if not url.isascii() or any(c in url for c in "\\ \t\r\n") or not url.isprintable():
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not re.fullmatch(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", host) or ".." in host:
        return None
    if "@" in parts.netloc or parts.fragment:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    if parts.scheme == "https" and host not in plain_http:
        if port not in (None, 443) or parts.netloc.lower() not in (host, f"{host}:443"):
            return None
    elif not (parts.scheme == "http" and host in plain_http):
        return None
    raw = parts.path or "/"
    if re.search(r"%(2f|5c|25)", raw, re.IGNORECASE):
        return None
    path = unquote(raw)
    if not path.startswith("/") or not path.isprintable():
        return None
    segments: list[str] = []
    for segment in path.split("/")[1:]:
        if segment == "..":
            if segments:
                segments.pop()
        elif segment != ".":
            segments.append(segment)
    path = quote("/" + "/".join(segments), safe="/-._~!$&'()*+,;=:@")
    return urlunsplit((parts.scheme, parts.netloc.lower(), path, parts.query, ""))


def host_allowed(url: str, hosts: tuple[str, ...], plain_http: tuple[str, ...] = ()) -> bool:
    """Whether a URL, once normalised, points at one of `hosts` ("example.com", or
    ".example.com" for any subdomain); Twilio's S3 bucket host only under the bucket's path."""
    normal = normalised_url(url, plain_http)
    if normal is None:
        return False
    parts = urlsplit(normal)
    host = (parts.hostname or "").lower()
    if host == TWILIO_BUCKET[0]:
        return host in hosts and parts.path.startswith(TWILIO_BUCKET[1])
    return any(h == host or (h[0] == "." and host.endswith(h)) for h in hosts)


async def read_limited(response: httpx.Response, limit: int) -> bytes:
    """The body, refused as soon as it grows past `limit` bytes."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise Refused("too large")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise Refused("too large")
    return bytes(body)


class TwilioMedia:
    """Downloads Twilio media URLs with the account's credentials."""

    def __init__(self, account_sid: str, auth_token: str, api_base_url: str, limit: int) -> None:
        self.auth = (account_sid, auth_token)
        self.hosts = TWILIO_HOSTS + (TWILIO_BUCKET[0],)
        self.plain_http: tuple[str, ...] = ()
        self.credential_hosts: tuple[str, ...] = (TWILIO_API_HOST,)
        if api_base_url:
            configured = (urlsplit(api_base_url).hostname or "").lower()
            if urlsplit(api_base_url).scheme == "http":
                self.plain_http = (configured,)
            self.hosts += (configured,)
            self.credential_hosts += (configured,)
        self.limit = limit
        self.client = httpx.AsyncClient(timeout=30, follow_redirects=False)

    async def __call__(self, url: str, declared: str | None) -> Download:
        first = True
        for _ in range(MAX_REDIRECTS + 1):
            normal = normalised_url(url, self.plain_http)
            if normal is None or not host_allowed(normal, self.hosts, self.plain_http):
                raise Refused("host")  # counted (ta_media_downloads), not logged: see below
            # Credentials only on the first request, and only to the API host: never to the
            # CDN, the bucket or wherever a redirect points.
            host = (urlsplit(normal).hostname or "").lower()
            auth = self.auth if first and host in self.credential_hosts else None
            first = False
            async with self.client.stream("GET", normal, auth=auth) as response:
                if response.is_redirect:
                    url = urljoin(normal, response.headers.get("location", ""))
                    continue
                if response.status_code >= 500:
                    raise OSError(f"HTTP {response.status_code}")
                if response.status_code != 200:
                    raise Refused(f"HTTP {response.status_code}")
                content_type = response.headers.get("content-type", declared or "")
                return Download(await read_limited(response, self.limit), content_type)
        raise Refused("redirects")

    async def close(self) -> None:
        await self.client.aclose()


def sniffed_type(content: bytes) -> str:
    """A file's type from its first bytes, not from what the sender declared (a Telegram
    document's MIME type is whatever the sending app said); unknown content is
    application/octet-stream, which `media.content_types` does not allow by default."""
    return filetype.guess_mime(content[:8192]) or "application/octet-stream"


def store_file(directory: Path, content: bytes, content_type: str) -> tuple[str, str]:
    """Keep a file under the media folder, named by its SHA-256 (the same file once); its
    path and hash. A file already there is left as it is, its times included: touched, its
    change time would say when the same content arrived again, perhaps for an anonymous case
    (`MediaFetcher.prune` runs between downloads, never between a file's storing and its
    recording)."""
    digest = hashlib.sha256(content).hexdigest()
    extension = mimetypes.guess_extension(content_type) or ".bin"
    target = directory / digest[:2] / f"{digest}{extension}"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, target)
        # The file's own times are kept to the day, as an anonymous case's are: its
        # modification time would otherwise say when the person sent it; its folder's too.
        for path in (target, target.parent):
            to_the_day(path)
    return str(target.resolve()), digest


class TelegramMedia:
    """Downloads Telegram files by file_id through the Bot API."""

    def __init__(self, bot, limit: int) -> None:
        self.bot = bot
        self.limit = limit

    async def __call__(self, file_id: str, declared: str | None) -> Download:
        file = await self.bot.get_file(file_id)
        if file.file_size and file.file_size > self.limit:
            raise Refused("too large")
        content = bytes(await file.download_as_bytearray())
        if len(content) > self.limit:
            raise Refused("too large")
        return Download(content, sniffed_type(content))

    async def close(self) -> None:
        return None


class LocalMedia:
    """Reads a file the console's citizen named (`/foto PATH`, kept as a file:// URI): stored
    at once like any download, so that the path (a home folder names its owner) is kept no
    longer than a provider's reference is."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    async def __call__(self, ref: str, declared: str | None) -> Download:
        parts = urlsplit(ref)
        if parts.scheme != "file":
            raise Refused("not a local file")
        path = Path(unquote(parts.path))
        if path.stat().st_size > self.limit:
            raise Refused("too large")
        content = await asyncio.to_thread(path.read_bytes)
        return Download(content, sniffed_type(content))

    async def close(self) -> None:
        return None


class MediaFetcher:
    """Works through pending attachments of the channels it has a fetcher for."""

    def __init__(
        self,
        app,
        fetchers: dict[str, Fetch],
        settings: MediaSettings,
        *,
        poll_interval: float = 2.0,
        backoff: float = 5.0,
    ) -> None:
        self.app = app
        self.fetchers = fetchers
        self.directory = Path(settings.directory)
        self.allowed = {t.lower() for t in settings.content_types}
        self.poll_interval = poll_interval
        self.backoff = backoff
        self._retry_at: dict[int, float] = {}
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def close(self) -> None:
        for fetch in self.fetchers.values():
            await fetch.close()

    async def run(self, prune_every: float = 600.0) -> None:
        pruned = time.monotonic()
        while True:
            if time.monotonic() - pruned > prune_every:
                pruned = time.monotonic()
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(self.prune)
            self._wakeup.clear()
            try:
                pending = await asyncio.to_thread(self._pending)
            except Exception as exc:  # the database is away: try again later
                log.warning("media: cannot read pending files (%s)", type(exc).__name__)
                pending = []
            for attachment_id, channel, ref, declared in pending:
                await self.fetch_one(attachment_id, channel, ref, declared)
            if not pending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wakeup.wait(), self.poll_interval)

    async def fetch_pending(self) -> None:
        """One pass over the pending attachments (the console's, right after each message)."""
        for attachment_id, channel, ref, declared in await asyncio.to_thread(self._pending):
            await self.fetch_one(attachment_id, channel, ref, declared)

    def prune(self, min_age: float = 3600.0) -> int:
        """Delete downloaded files no attachment refers to any more (a citizen's data was
        erased); files younger than `min_age` seconds may still be about to be recorded."""
        with self.app.uow() as uow:
            kept = {os.path.abspath(path) for path in uow.messages.stored_media_paths()}
        removed = 0
        if not self.directory.is_dir():
            return removed
        horizon = time.time() - min_age
        for path in self.directory.glob("*/*"):
            if not _STORED_NAME.fullmatch(path.name) or path.parent.name != path.name[:2]:
                continue  # not a file this service wrote
            if str(path.resolve()) not in kept and path.stat().st_mtime <= horizon:
                path.unlink(missing_ok=True)
                removed += 1
        return removed

    def _pending(self) -> list[tuple[int, str, str, str | None]]:
        now = time.monotonic()
        with self.app.uow() as uow:
            rows = uow.messages.pending_downloads(tuple(self.fetchers), 200)
            return [
                (a.id, channel, a.provider_ref, a.content_type)
                for a, channel in rows
                if self._retry_at.get(a.id, 0.0) <= now
            ]

    async def fetch_one(self, attachment_id: int, channel: str, ref: str, declared: str | None):
        """Download one file and record the result; never raises."""
        try:
            download = await self.fetchers[channel](ref, declared)
            content_type = download.content_type.split(";")[0].strip().lower()
            if content_type not in self.allowed:
                raise Refused("type")
            path = await asyncio.to_thread(self._store, download.content, content_type)
        except Refused as exc:
            self._count(channel, "refused")
            await self._record(attachment_id, ref, failed=str(exc))
        except Exception:  # network, provider or disk: tried again later
            # Counted, not logged: a line's own time is about when the person sent the file,
            # and would date it once it joined an anonymous case (found by an outside check).
            self._count(channel, "retry")
            await self._record(attachment_id, ref, failed=None)
        else:
            self._count(channel, "stored")
            await self._record(attachment_id, ref, stored=path)

    def _count(self, channel: str, outcome: str) -> None:
        metrics = getattr(self.app, "metrics", None)
        if metrics is not None:
            metrics.media_downloads.labels(channel, outcome).inc()

    def _store(self, content: bytes, content_type: str) -> tuple[str, str]:
        return store_file(self.directory, content, content_type)

    async def _record(
        self,
        attachment_id: int,
        ref: str,
        *,
        stored: tuple[str, str] | None = None,
        failed: str | None = None,
    ) -> None:
        def record() -> None:
            with self.app.uow() as uow:
                attachment = uow.messages.get_attachment(attachment_id)
                if attachment is None or attachment.status != "pending":
                    return
                if attachment.provider_ref != ref:
                    return  # erased while it was being fetched: the file goes with the prune
                attachment.attempts += 1
                if stored is not None:
                    attachment.local_path, attachment.sha256 = stored
                    uow.messages.keep_apart(attachment, self.app.policy.media_hash)
                    attachment.status = "stored"
                elif failed is not None or attachment.attempts >= MAX_ATTEMPTS:
                    attachment.status = "failed"  # not logged either (see `fetch_one`)
                else:
                    delay = self.backoff * 2**attachment.attempts
                    self._retry_at[attachment_id] = time.monotonic() + delay
                if attachment.status != "pending":
                    self._retry_at.pop(attachment_id, None)
                    # The provider's reference (Twilio's URL holds the message's sid) is needed
                    # only to fetch the file.
                    attachment.provider_ref = ""
                uow.commit()  # the attachment was read in this unit of work: its changes go

        try:
            await asyncio.to_thread(record)
        except Exception as exc:
            log.warning("media: cannot record an attachment (%s)", type(exc).__name__)
