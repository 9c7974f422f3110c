"""The desk's routes, mounted under /mesa by bot/server.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from xstatic.pkg import leaflet

from bot.app import App
from bot.desk.admin import AdminPages
from bot.desk.compromisos import CommitmentsPage
from bot.desk.mapa import MapPage
from bot.desk.web import HERE, Desk, _secure, desk_texts


async def not_found(request: Request) -> Response:
    """An address the desk does not have."""
    return _secure(HTMLResponse(desk_texts()("errors.not_found"), status_code=404))


async def favicon(request: Request) -> Response:
    """The desk's icon where browsers look for it first, whatever page they opened."""
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(HERE / "static" / "favicon.ico", media_type="image/x-icon", headers=headers)


def desk_routes(app: App, clock: Callable[[], datetime]) -> list[BaseRoute]:
    """The desk's routes, mounted under /mesa, and its icon at /favicon.ico."""
    desk = Desk(app, clock)
    admin = AdminPages(desk)
    mapa = MapPage(desk)
    compromisos = CommitmentsPage(desk)
    handler = Callable[[Request], Awaitable[Response]]
    routes: list[tuple[str, handler, list[str]]] = [
        ("/", desk.home, ["GET"]),
        ("/login", desk.login_page, ["GET"]),
        ("/login", desk.login, ["POST"]),
        ("/salir", desk.logout, ["POST"]),
        ("/bandeja", desk.queue_page, ["GET"]),
        ("/bandeja/filas", desk.queue_rows, ["GET"]),
        ("/bandeja/lote", desk.bulk, ["POST"]),
        ("/casos/{folio}", desk.case_page, ["GET"]),
        ("/casos/{folio}/{action}", desk.case_action, ["POST"]),
        ("/casos/{folio}/documentos/{name}", desk.document, ["GET"]),
        ("/adjuntos/{id}", desk.attachment, ["GET"]),
        ("/respuestas", desk.saved_replies, ["GET", "POST"]),
        ("/visitas", desk.visits_page, ["GET"]),
        ("/visitas.ics", desk.visits_calendar, ["GET"]),
        ("/mapa", mapa.page, ["GET"]),
        ("/mapa/puntos", mapa.points, ["GET"]),
        ("/compromisos", compromisos.page, ["GET"]),
        ("/informes", admin.reports, ["GET"]),
        ("/informes/descarga", admin.download, ["GET"]),
        ("/personal", admin.staff, ["GET"]),
        ("/personal/{id}/segundo-factor", admin.reset_second_factor, ["POST"]),
        ("/personal/{id}/{accion}", admin.change_member, ["POST"]),
    ]
    return [
        Mount(
            "/mesa",
            routes=[
                *(Route(path, endpoint, methods=methods) for path, endpoint, methods in routes),
                Mount("/static/leaflet", StaticFiles(directory=leaflet.BASE_DIR), name="leaflet"),
                Mount("/static", StaticFiles(directory=HERE / "static"), name="desk-static"),
                # Any other address under /mesa: a page that says so in Spanish.
                Route("/{rest:path}", not_found, methods=["GET", "POST"]),
            ],
        ),
        Route("/favicon.ico", favicon, methods=["GET"]),
    ]
