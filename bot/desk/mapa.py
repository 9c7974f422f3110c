"""The Mapa: the open cases with a pin, filtered like the Bandeja, drawn with Leaflet from the
XStatic-Leaflet package (no CDN) over tiles from `desk.map_tiles_url` (empty: a plain
background). Without JavaScript the page lists the pins."""

from __future__ import annotations

from urllib.parse import urlparse

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.desk.web import Desk, _forbidden, _to_login, _url

MAX_PINS = 1000


class MapPage:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    @property
    def tiles(self) -> str:
        return self.desk.app.settings.desk.map_tiles_url.strip()

    def _points(self, visit, filters) -> list[dict]:
        with self.desk.app.uow() as uow:
            cases = uow.desk.map_points(visit.scope, filters, MAX_PINS)
        now = self.desk.clock()
        return [
            {
                "folio": case.folio,
                "lat": case.latitude,
                "lon": case.longitude,
                "urgencia": case.urgency,
                "estado": self.desk.label("status", case.status),
                "tema": self.desk.label("topic", case.topic),
                "plazo": self.desk.deadline_of(case, now).state,
            }
            for case in cases
        ]

    async def page(self, request: Request) -> Response:
        visit = await run_in_threadpool(self.desk.visit, request)
        if visit is None:
            return _to_login(request)
        filters, _, kept = self.desk._filters(request, visit)
        points = await run_in_threadpool(self._points, visit, filters)
        response = self.desk.render(
            "mapa.html",
            visit=visit,
            points=points,
            kept=kept,
            points_url=_url("/mesa/mapa/puntos", kept),
            tiles=self.tiles,
            queue_url=_url("/mesa/bandeja", kept),
        )
        if self.tiles:
            # The tiles' server is the one address outside the desk the page may load from.
            tiles = urlparse(self.tiles.replace("{s}", "*"))
            policy = response.headers["Content-Security-Policy"]
            response.headers["Content-Security-Policy"] = policy.replace(
                "img-src 'self' data:", f"img-src 'self' data: {tiles.scheme}://{tiles.netloc}"
            )
        return response

    async def points(self, request: Request) -> Response:
        visit = await run_in_threadpool(self.desk.visit, request)
        if visit is None:
            return _forbidden()
        filters, _, _ = self.desk._filters(request, visit)
        points = await run_in_threadpool(self._points, visit, filters)
        return JSONResponse(points, headers={"Cache-Control": "no-store"})
