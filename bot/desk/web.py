"""The web desk's routes under /mesa/: sign-in, sessions, CSRF, the Bandeja, the Caso and its
actions, attachments and saved replies. Each route checks the session, the role and the case,
then calls the same casework functions as the chat and the CLI."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from bot.app import App
from bot.desk import accounts
from bot.desk import commitments as commitment_pages
from bot.desk.views import DayCounter, Row, allowed_statuses, deadline, since_words, timeline
from bot.documents import render_pdf
from bot.media import sniffed_type, store_file
from bot.visit_calendar import visits_ics
from handlers.casework import actions as casework
from handlers.casework import commitments as promises
from handlers.casework import documents
from handlers.casework import visits as field_visits
from handlers.casework.cases import normalise_folio, record_event
from handlers.casework.lifecycle import FINAL, SUPERVISING, NotAllowed, reachable_contact
from handlers.casework.staff import actor_of, close_done
from handlers.core.labels import CASE_TYPES, CHANNELS, OPEN_STATUSES, URGENCIES, staff_label
from handlers.core.texts import Texts
from handlers.dialogue.intake import queue
from storage.desk import QueueFilter, Scope
from storage.models import Case, DeskSession, SavedReply, Staff

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "ta_mesa"
LOGIN_COOKIE = "ta_mesa_entrada"
TOUCH_EVERY = timedelta(seconds=60)
FOLDERS = ("mias", "sin_asignar", "todas")
MAX_FORM = 20_000  # characters of any one field


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


@cache
def desk_texts() -> Texts:
    """The desk's own catalogue (bot/desk/texts.toml)."""
    with (HERE / "texts.toml").open("rb") as handle:
        return Texts(_flatten(tomllib.load(handle)), "es")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Visit:
    """A signed-in request: the session and its staff member."""

    session: DeskSession
    member: Staff
    scope: Scope

    @property
    def supervising(self) -> bool:
        return self.member.role in SUPERVISING


class Desk:
    """The desk, wired to the application."""

    def __init__(self, app: App, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock
        self.policy = app.policy
        self.days = DayCounter(app.policy.calendar)
        self.t = desk_texts()
        settings = app.settings
        self.idle = timedelta(minutes=settings.desk.session_idle_minutes)
        self.secure = settings.server.public_url.startswith("https://")
        self.page_size = settings.desk.page_size
        self.slow_seconds = settings.desk.slow_seconds
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(t=self.t, label=self.label, local=self.local)

    # -- helpers -----------------------------------------------------------------------------

    def label(self, kind: str, value: str | None) -> str:
        if value is None:
            return "—"
        if kind == "topic":
            return self.policy.topic_label(value)
        key = f"labels.{kind}.{value}"
        if self.t.has(key):
            return self.t(key)
        return staff_label(self.policy.texts, kind, value)

    def local(self, instant: datetime | None, case: Case | None = None) -> str:
        """A time on a page; of an anonymous `case`, kept to the day, the date alone."""
        if instant is None:
            return "—"
        return self.policy.local_time(instant, anonymous=bool(case and case.anonymous))

    def deadline_of(self, case: Case, now: datetime):
        return deadline(self.policy, self.t, case, now, self.days)

    def render(
        self, name: str, status: int = 200, visit: Visit | None = None, **values: Any
    ) -> HTMLResponse:
        template = self.env.get_template(name)
        values.setdefault("member", visit.member if visit else None)
        values.setdefault("csrf", visit.session.csrf_token if visit else "")
        values.setdefault("supervising", visit.supervising if visit else False)
        return _secure(HTMLResponse(template.render(**values), status_code=status))

    def scope_of(self, uow, member: Staff) -> Scope:
        if member.role in SUPERVISING:
            return Scope(everything=True, staff_id=member.id)
        teams = uow.desk.teams_of(member.id)
        if not teams:
            return Scope(everything=True, staff_id=member.id)  # an office without teams
        return Scope(
            everything=False,
            staff_id=member.id,
            teams=tuple((tuple(team.topics), tuple(team.municipalities)) for team in teams),
        )

    def visit(self, request: Request) -> Visit | None:
        """The signed-in staff member of this request, or None (the session ends when idle or
        when the account was deactivated)."""
        token = request.cookies.get(COOKIE)
        if not token or len(token) > 100:
            return None
        now = self.clock()
        with self.app.uow() as uow:
            session = uow.desk.get_session(_hash(token))
            if session is None:
                return None
            member = uow.staff.get(session.staff_id)
            if member is None or not member.active or now - session.last_seen_at > self.idle:
                uow.desk.end_session(session.token_hash)
                uow.commit()
                return None
            if now - session.last_seen_at > TOUCH_EVERY:
                session.last_seen_at = now
                uow.session.add(session)
                uow.commit()
            return Visit(session, member, self.scope_of(uow, member))

    async def form(
        self, request: Request, visit: Visit | None, *, files: dict | None = None
    ) -> dict[str, Any] | None:
        """The posted form, or None when its CSRF token is missing or wrong. With `files`, one
        uploaded file may come too: it is put there under its field's name."""
        try:
            form = await request.form(max_files=1 if files is not None else 0, max_fields=500)
        except Exception:  # noqa: BLE001 - a malformed body is a refusal like any other
            return None
        if files is not None:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    files[key] = value
        expected = visit.session.csrf_token if visit else request.cookies.get(LOGIN_COOKIE, "")
        given = form.get("csrf")
        if (
            not expected
            or not isinstance(given, str)
            or not secrets.compare_digest(given, expected)
        ):
            return None
        values: dict[str, Any] = {}
        for key in form:
            if files is not None and key in files:
                continue
            items = [str(v)[:MAX_FORM] for v in form.getlist(key)]
            values[key] = items if len(items) > 1 or key.endswith("[]") else items[0]
        return values

    # -- signing in and out --------------------------------------------------------------------

    async def login_page(self, request: Request) -> Response:
        if await run_in_threadpool(self.visit, request):
            return RedirectResponse("/mesa/bandeja", status_code=303)
        return self._login_form(request)

    def _login_form(self, request: Request, problem: str | None = None, status: int = 200):
        token = secrets.token_urlsafe(32)
        response = self.render(
            "login.html",
            status=status,
            csrf=token,
            problem=self.t(problem) if problem else None,
            next=_safe_next(request.query_params.get("siguiente")),
        )
        response.set_cookie(
            LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=self.secure, path="/mesa"
        )
        return response

    async def login(self, request: Request) -> Response:
        form = await self.form(request, None)
        if form is None:
            return _forbidden()
        address = request.client.host if request.client else "desconocida"
        now = self.clock()

        def work() -> tuple[accounts.SignInResult, str | None]:
            with self.app.uow() as uow:
                result = accounts.sign_in(
                    uow,
                    str(form.get("username", ""))[:64].lower(),
                    str(form.get("password", ""))[:1000],
                    str(form.get("otp", ""))[:40],
                    address[:64],
                    now,
                )
                token = None
                if result.member is not None:
                    previous = request.cookies.get(COOKIE)
                    if previous:  # a sign-in over another session ends that one
                        uow.desk.end_session(_hash(previous[:100]))
                    token = secrets.token_urlsafe(32)
                    uow.desk.end_idle_sessions(now - self.idle)
                    uow.desk.add_session(
                        DeskSession(
                            token_hash=_hash(token),
                            staff_id=result.member.id,
                            csrf_token=secrets.token_urlsafe(32),
                            created_at=now,
                            last_seen_at=now,
                        )
                    )
                uow.commit()
                return result, token

        try:
            result, token = await run_in_threadpool(work)
        except IntegrityError:  # two first failures from one address at once: count again
            result, token = await run_in_threadpool(work)
        if result.slowed and self.slow_seconds:
            await asyncio.sleep(self.slow_seconds)
        if token is None:
            return self._login_form(request, result.problem, status=401)
        # A new session id at every sign-in; the old cookie (if any) is replaced.
        response = RedirectResponse(
            _safe_next(str(form.get("siguiente", ""))) or "/mesa/bandeja", status_code=303
        )
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="lax", secure=self.secure, path="/mesa"
        )
        response.delete_cookie(LOGIN_COOKIE, path="/mesa")
        return response

    async def logout(self, request: Request) -> Response:
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        if await self.form(request, visit) is None:
            return _forbidden()

        def work() -> None:
            with self.app.uow() as uow:
                uow.desk.end_session(visit.session.token_hash)
                uow.desk.audit(self.clock(), visit.member.id, "signed_out")
                uow.commit()

        await run_in_threadpool(work)
        response = RedirectResponse("/mesa/login", status_code=303)
        response.delete_cookie(COOKIE, path="/mesa")
        return response

    # -- the Bandeja ---------------------------------------------------------------------------

    def _filters(self, request: Request, visit: Visit) -> tuple[QueueFilter, int, dict]:
        params = request.query_params
        folder = params.get("carpeta", "todas")
        folder = folder if folder in FOLDERS else "todas"

        def choice(name: str, valid: tuple[str, ...]) -> str | None:
            value = params.get(name) or None
            return value if value in valid else None

        text = (params.get("q") or "").strip()[:200] or None
        municipality = (params.get("municipio") or "").strip()[:120] or None
        try:
            page = max(1, min(10_000, int(params.get("pagina", "1"))))
        except ValueError:
            page = 1
        filters = QueueFilter(
            folder=folder,
            me=visit.member.id,
            case_type=choice("tipo", CASE_TYPES),
            topic=choice("tema", self.policy.topics),
            urgency=choice("urgencia", URGENCIES),
            status=choice("estado", OPEN_STATUSES),
            channel=choice("canal", CHANNELS),
            municipality=municipality,
            text=text,
        )
        kept = {
            "carpeta": folder,
            "tipo": filters.case_type,
            "tema": filters.topic,
            "urgencia": filters.urgency,
            "estado": filters.status,
            "canal": filters.channel,
            "municipio": municipality,
            "q": text,
        }
        return filters, page, {k: v for k, v in kept.items() if v}

    def _rows(self, visit: Visit, filters: QueueFilter, page: int) -> tuple[list[Row], bool]:
        now = self.clock()
        with self.app.uow() as uow:
            cases, more = uow.desk.queue_page(
                visit.scope, filters, (page - 1) * self.page_size, self.page_size
            )
            names = uow.desk.staff_names({c.assignee_id for c in cases if c.assignee_id})
            wrote = uow.desk.last_citizen_message([c.id for c in cases])
        rows = [
            Row(
                case,
                deadline(self.policy, self.t, case, now, self.days),
                names.get(case.assignee_id or 0, self.t("queue.nobody")),
                since_words(
                    self.t,
                    wrote.get(case.id),
                    now,
                    # An anonymous case's messages keep their day only: said as a day.
                    self.policy.calendar.local_date if case.anonymous else None,
                ),
            )
            for case in cases
        ]
        return rows, more

    async def queue_page(self, request: Request) -> Response:
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        filters, page, kept = self._filters(request, visit)
        if filters.text and (folio := normalise_folio(filters.text)):
            return RedirectResponse(f"/mesa/casos/{folio}", status_code=303)
        rows, more = await run_in_threadpool(self._rows, visit, filters, page)
        staff = await run_in_threadpool(self._active_staff)
        return self.render(
            "bandeja.html",
            visit=visit,
            rows=rows,
            page=page,
            more=more,
            kept=kept,
            query=urlencode(kept),
            prev_url=_url("/mesa/bandeja", kept, pagina=page - 1) if page > 1 else None,
            next_url=_url("/mesa/bandeja", kept, pagina=page + 1) if more else None,
            rows_url=_url("/mesa/bandeja/filas", kept, pagina=page),
            folder_urls={f: _url("/mesa/bandeja", {**kept, "carpeta": f}) for f in FOLDERS},
            types=CASE_TYPES,
            topics=self.policy.topics,
            urgencies=URGENCIES,
            statuses=OPEN_STATUSES,
            channels=CHANNELS,
            staff=staff,
            notice=self._notice(request),
        )

    async def queue_rows(self, request: Request) -> Response:
        """The Bandeja's rows alone, which the page's script fetches every few seconds."""
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _forbidden()
        filters, page, _ = self._filters(request, visit)
        rows, _ = await run_in_threadpool(self._rows, visit, filters, page)
        return self.render("_filas.html", visit=visit, rows=rows)

    def _active_staff(self) -> list[Staff]:
        with self.app.uow() as uow:
            return list(uow.staff.active())

    def _notice(self, request: Request) -> str | None:
        key = request.query_params.get("hecho")
        return self.t(f"done.{key}") if key and self.t.has(f"done.{key}") else None

    async def bulk(self, request: Request) -> Response:
        """Assign, change the status of, or note several cases at once; each one checked."""
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        form = await self.form(request, visit)
        if form is None:
            return _forbidden()
        folios = form.get("folios[]") or form.get("folios") or []
        folios = [folios] if isinstance(folios, str) else list(folios)[:200]
        what = form.get("accion")
        missing = _bulk_missing(folios, what, form)
        if missing:
            problems = [self.t(missing)]
            return self.render(
                "aviso.html", status=400, visit=visit, problems=problems, back="/mesa/bandeja"
            )

        def one(uow, case: Case, actor, now) -> list:
            if what == "asignar":
                member = casework.find_staff(uow, self.policy, str(form.get("personal", "")))
                self._check_assign(visit, case, member)
                return casework.assign(uow, self.policy, case, member, actor, now)
            if what == "estado":
                to, note = str(form.get("estado", "")), str(form.get("nota", ""))
                return casework.set_status(uow, self.policy, case, to, note, actor, now)
            if what == "nota":
                return casework.add_note(
                    uow, self.policy, case, str(form.get("nota", "")), actor, now
                )
            raise NotAllowed(self.t("bulk.unknown"))

        def work() -> list[str]:
            problems = []
            for folio in folios:
                now = self.clock()
                with self.app.uow() as uow:
                    try:
                        case = self._case_for(uow, visit, folio)
                        if case is None:
                            raise NotAllowed(self.t("case.not_found", folio=folio))
                        replies = one(uow, case, actor_of(visit.member), now)
                        queue(uow, replies, now)
                        uow.commit()
                    except NotAllowed as exc:
                        problems.append(f"{folio}: {exc}")
            return problems

        problems = await run_in_threadpool(work)
        if problems:
            return self.render(
                "aviso.html", status=400, visit=visit, problems=problems, back="/mesa/bandeja"
            )
        return RedirectResponse("/mesa/bandeja?hecho=lote", status_code=303)

    # -- the Caso ------------------------------------------------------------------------------

    def _case_for(self, uow, visit: Visit, folio: str, *, lock: bool = True) -> Case | None:
        """The case, when this member may see it (None otherwise: not told apart from none)."""
        canonical = normalise_folio(folio) or folio.strip().upper()[:40]
        case = uow.cases.by_folio(canonical, lock=lock)
        if case is None or not visit.scope.allows(case):
            return None
        return case

    def _check_assign(self, visit: Visit, case: Case, member: Staff) -> None:
        """Agents take unassigned cases or give away their own; reassigning is supervising."""
        if visit.supervising or case.assignee_id in (None, visit.member.id):
            return
        raise NotAllowed(self.t("case.reassign_supervisors"))

    def _case_view(self, visit: Visit, folio: str, done: str | None = None) -> dict | None:
        now = self.clock()
        with self.app.uow() as uow:
            case = self._case_for(uow, visit, folio, lock=False)
            if case is None:
                return None
            messages = list(uow.messages.for_case(case.id))
            events = list(uow.cases.events(case.id))
            attachments = list(uow.messages.attachments_for_case(case.id))
            contact = None
            if not case.anonymous and case.contact_id is not None:
                contact = uow.contacts.get(case.contact_id)
            assignee = uow.staff.get(case.assignee_id) if case.assignee_id else None
            if case.anonymous:
                uow.desk.audit(now, visit.member.id, "opened_anonymous", case_id=case.id)
                uow.commit()
            audit = uow.desk.audit_entries(case_id=case.id, limit=20) if visit.supervising else []
            names = uow.desk.staff_names({entry.staff_id for entry in audit if entry.staff_id})
            saved = uow.desk.saved_replies()
            staff = list(uow.staff.active())
            promised = commitment_pages.case_rows(uow, self.policy, case, now)
            planned = [(v, case) for v in uow.visits.for_case(case.id)]
            notice = self._done_notice(uow, case, done)
            reachable = reachable_contact(uow, case) is not None
        return {
            "notice": notice,
            "reachable": reachable,
            "commitments": promised,
            "visits": self._visit_rows(planned),
            "visit_open": any(v.status in ("proposed", "confirmed") for v, _ in planned),
            "case": case,
            "deadline": deadline(self.policy, self.t, case, now, self.days),
            "timeline": timeline(self.policy, self.t, case, messages, events, attachments),
            "attachments": attachments,
            "contact": contact,
            "assignee": assignee,
            "statuses": allowed_statuses(case, visit.member),
            "no_extension": self._no_extension(case),
            "reply_most": f"{casework.MAX_NOTE:,}".replace(",", "."),
            "open": case.status not in FINAL,
            "audit": [(entry, names.get(entry.staff_id or 0, "—")) for entry in audit],
            "saved": saved,
            "staff": staff,
            "types": CASE_TYPES,
            "topics": self.policy.topics,
            "urgencies": URGENCIES,
        }

    async def case_page(self, request: Request, **extra: Any) -> Response:
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        return await self._show_case(request, visit, **extra)

    def _no_extension(self, case: Case) -> str | None:
        """Why a case has no form to extend its deadline (None: it has one). Its one extension
        was given; an emergency's deadline is its day, no days to add."""
        if case.extension_days:
            return self.policy.texts("staff.error_already_extended", folio=case.folio)
        if not case.deadline_days:
            return self.policy.texts("staff.error_extension_same_day", folio=case.folio)
        return None

    async def _show_case(
        self, request: Request, visit: Visit, status: int = 200, **extra: Any
    ) -> Response:
        folio = request.path_params["folio"]
        done = request.query_params.get("hecho")
        view = await run_in_threadpool(self._case_view, visit, folio, done)
        if view is None:
            return self.render(
                "aviso.html",
                status=404,
                visit=visit,
                problems=[self.t("case.not_found", folio=folio[:40])],
                back="/mesa/bandeja",
            )
        extra.setdefault("notice", view.pop("notice"))
        return self.render("caso.html", status=status, visit=visit, **view, **extra)

    def _done_notice(self, uow, case: Case, done: str | None) -> str | None:
        """What the case's page says once an action on it is done, with the chat's words where
        the reporter was not reached as usual: a closing nobody was told of (a call, a walk-in)
        says so and how to tell them; a commitment says whether the reporter hears of it in
        their chat, with their code (anonymous) or not at all."""
        if not done or not self.t.has(f"done.{done}"):
            return None
        if done == "cerrar":
            return close_done(uow, self.policy, case) or self.t("done.cerrar")
        if done in commitment_pages.ACTIONS:
            told = promises.told_as_it_stands(uow, self.policy, case)
            return f"{self.t(f'done.{done}')} {told}"
        return self.t(f"done.{done}")

    def _fill(self, body: str, case: Case) -> str:
        """A saved reply's variables filled in for this case."""
        values = {
            "{folio}": case.folio,
            "{fecha_limite}": self.policy.local_day(case.due_at),
            "{institucion}": self.policy.institution.name,
        }
        for key, value in values.items():
            body = body.replace(key, value)
        return body

    async def case_action(self, request: Request) -> Response:
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        files: dict[str, UploadFile] = {}
        form = await self.form(request, visit, files=files)
        if form is None:
            return _forbidden()
        folio, action = request.path_params["folio"], request.path_params["action"]
        text = str(form.get("texto", "")).strip()
        photo = await self._photo(files.get("foto")) if action == "visita_foto" else None

        if action == "insertar":  # a saved reply into the reply box, variables filled in

            def fill() -> str | None:
                with self.app.uow() as uow:
                    case = self._case_for(uow, visit, folio, lock=False)
                    chosen = [
                        r for r in uow.desk.saved_replies() if str(r.id) == form.get("guardada")
                    ]
                    return self._fill(chosen[0].body, case) if case and chosen else None

            filled = await run_in_threadpool(fill)
            return await self._show_case(request, visit, draft=filled or "")
        if action == "responder" and not form.get("enviar"):
            # The reply as the citizen will read it, before it is sent.
            if not text:
                return await self._show_case(
                    request, visit, status=400, problem=self.t("case.needs_text")
                )
            try:  # too long: said before the preview, the text kept in the box
                casework.within_length(self.policy, text)
            except NotAllowed as exc:
                return await self._show_case(
                    request, visit, status=400, problem=str(exc), draft=text
                )
            shown = normalise_folio(folio) or folio.strip().upper()[:40]
            preview = self.policy.texts("notify.reply", folio=shown, text=text)
            # An anonymous reporter reads it in the case's history, with their secret code.
            in_history = f"{self.policy.texts('events.staff_reply')}: {text}"
            confirmed = form.get("cerrado") == "1"
            return await self._show_case(
                request,
                visit,
                draft=text,
                preview=preview,
                preview_in_history=in_history,
                closed_confirmed=confirmed,
            )

        def act(uow, case: Case, actor, now) -> list:
            policy = self.policy
            if action == "tomar":
                if case.assignee_id not in (None, visit.member.id) and not visit.supervising:
                    raise NotAllowed(self.t("case.reassign_supervisors"))
                return casework.assign(uow, policy, case, visit.member, actor, now)
            if action == "asignar":
                member = casework.find_staff(uow, policy, str(form.get("personal", "")))
                self._check_assign(visit, case, member)
                return casework.assign(uow, policy, case, member, actor, now)
            if action == "estado":
                to = str(form.get("estado", ""))
                if to not in allowed_statuses(case, visit.member):
                    raise NotAllowed(self.t("case.status_not_allowed"))
                return casework.set_status(uow, policy, case, to, text, actor, now)
            if action == "responder":
                # To a closed case only with the box "send although it is closed" ticked.
                confirmed = form.get("cerrado") == "1"
                return casework.reply(uow, policy, case, text, actor, now, closed_ok=confirmed)
            if action == "nota":
                return casework.add_note(uow, policy, case, text, actor, now)
            if action == "reclasificar":
                labels = {
                    "case_type": _pick(form.get("tipo"), CASE_TYPES),
                    "topic": _pick(form.get("tema"), policy.topics),
                    "urgency": _pick(form.get("urgencia"), URGENCIES),
                }
                return casework.reclassify_case(uow, policy, case, actor, now, **labels)
            if action == "prioridad":
                on = form.get("prioritario") == "si"
                return casework.prioritise(uow, policy, case, on, text, actor, now)
            if action == "remitir":
                return casework.refer(
                    uow, policy, case, str(form.get("institucion", "")), actor, now
                )
            if action == "pedir_info":
                return casework.request_info(uow, policy, case, text, actor, now)
            if action == "prorroga":
                try:
                    days = int(str(form.get("dias", "")))
                except ValueError:
                    days = 0
                return casework.extend(uow, policy, case, days, text, actor, now)
            if action == "cerrar":
                return casework.close(uow, policy, case, text, actor, now)
            if action == "descartar":
                return casework.discard(uow, policy, case, text, actor, now)
            if action == "mujeres":
                on = form.get("mujeres") == "si"
                field_visits.mark_women(uow, policy, case, on, actor, now)
                return []
            if action.startswith("visita"):
                return self._visit_action(uow, case, action, form, actor, now, photo)
            if action == "duplicado":
                original = self._case_for(uow, visit, str(form.get("original", "")))
                if original is None or original.id == case.id:
                    raise NotAllowed(self.t("case.bad_original"))
                reason = self.t("case.duplicate_reason", folio=original.folio)
                replies = casework.discard(uow, policy, case, reason, actor, now)
                record_event(
                    uow,
                    case,
                    now,
                    actor=actor.name,
                    kind="duplicate_of",
                    note=original.folio,
                    public=False,
                )
                record_event(
                    uow,
                    original,
                    now,
                    actor=actor.name,
                    kind="duplicate_linked",
                    note=case.folio,
                    public=False,
                )
                return replies
            if action in commitment_pages.ACTIONS:
                return commitment_pages.act(uow, policy, case, action, form, actor, now)
            raise LookupError(action)

        def work() -> str | None:
            now = self.clock()
            with self.app.uow() as uow:
                case = self._case_for(uow, visit, folio)
                if case is None:
                    raise LookupError(folio)
                try:
                    replies = act(uow, case, actor_of(visit.member), now)
                except NotAllowed as exc:
                    return str(exc)
                queue(uow, replies, now)
                uow.commit()
                return None

        try:
            problem = await run_in_threadpool(work)
        except LookupError:
            return self.render(
                "aviso.html",
                status=404,
                visit=visit,
                problems=[self.t("case.not_found", folio=folio[:40])],
                back="/mesa/bandeja",
            )
        if problem:
            return await self._show_case(request, visit, status=400, problem=problem, draft=text)
        target = normalise_folio(folio) or folio.strip().upper()
        return RedirectResponse(f"/mesa/casos/{target}?hecho={action}", status_code=303)

    # -- field visits (handlers/casework/visits.py) ---------------------------------------------

    def _visit_rows(self, rows: list) -> list[dict[str, Any]]:
        """What the desk shows of visits: number, folio, when, where, who goes, status, notes."""
        return [
            {
                "id": v.id,
                "folio": c.folio,
                "when": field_visits.describe_slot(self.policy, v),
                "place": field_visits.place_of(self.policy, c) or "—",
                "who": v.who or "—",
                "status": v.status,
                "status_label": field_visits.status_label(self.policy, v.status),
                "women": c.affects_women,
                "outcome": v.outcome,
                "next_step": v.next_step,
                "open": v.status not in field_visits.CLOSED,
                "committable": v.status in field_visits.COMMITTABLE,
            }
            for v, c in rows
        ]

    async def _photo(self, upload: UploadFile | None) -> tuple[bytes, str] | None:
        """An uploaded photo and its type, read from its content (None when it is not one a
        browser shows, or is larger than `media.max_mb`)."""
        limit = int(self.app.settings.media.max_mb * 1024 * 1024)
        content = await upload.read(limit + 1) if upload is not None else b""
        kind = sniffed_type(content)
        if not content or len(content) > limit or kind not in PHOTO_TYPES:
            return None
        return content, kind

    def _visit_action(
        self, uow, case: Case, action: str, form, actor, now, photo: tuple[bytes, str] | None
    ) -> list:
        """Propose a visit on the case, record what became of one of its visits, or attach a
        photo of it (it joins the case as the staff member's, as one sent from a phone does)."""
        policy = self.policy
        if action == "visita":
            window = f"{form.get('desde', '')}-{form.get('hasta', '')}"
            slot = field_visits.parse_slot(policy, str(form.get("fecha", "")), window, now)
            who = str(form.get("quien", ""))
            return field_visits.propose(uow, policy, case, slot, who, actor, now)[1]
        planned, of = field_visits.find_visit(uow, policy, str(form.get("visita", "")))
        if of.id != case.id:
            raise NotAllowed(self.t("visits.not_of_case"))
        text = str(form.get("texto", ""))
        if action == "visita_confirmar":
            return field_visits.confirm_by_staff(uow, policy, planned, case, actor, now)
        if action == "visita_hecha":
            next_step = str(form.get("proximo", ""))
            return field_visits.record_done(uow, policy, planned, case, text, next_step, actor, now)
        if action in ("visita_cancelar", "visita_fallida"):
            to = "cancelled" if action == "visita_cancelar" else "missed"
            return field_visits.end(uow, policy, planned, case, to, text, actor, now)
        if action == "visita_foto":
            if photo is None:
                raise NotAllowed(self.t("visits.bad_photo"))
            content, kind = photo
            path, digest = store_file(Path(self.app.settings.media.directory), content, kind)
            field_visits.attach_desk_photo(uow, planned, case, actor, path, digest, kind, now)
            return []
        raise LookupError(action)

    def _visible_visits(self, visit: Visit, every: bool, who: str | None) -> list:
        """The visits of cases this member may see: pending ones (all with `every`), women's
        cases first."""
        now = self.clock()
        with self.app.uow() as uow:
            rows = uow.visits.listing(
                since=None if every else now - timedelta(days=1),
                statuses=None if every else ("proposed", "confirmed", "reschedule_asked"),
                who=who or None,
            )
        return [(v, c) for v, c in rows if visit.scope.allows(c)]

    async def visits_page(self, request: Request) -> Response:
        """Visitas: the pending field visits, and the calendar file to subscribe to."""
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        every = request.query_params.get("todas") == "1"
        who = (request.query_params.get("personal") or "").strip()[:120]
        rows = await run_in_threadpool(self._visible_visits, visit, every, who)
        return self.render(
            "visitas.html", visit=visit, rows=self._visit_rows(rows), every=every, who=who
        )

    async def visits_calendar(self, request: Request) -> Response:
        """The same visits as an iCalendar file (folio, place, window, who goes; no citizen)."""
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        who = (request.query_params.get("personal") or "").strip()[:120]
        rows = await run_in_threadpool(self._visible_visits, visit, True, who)
        content = visits_ics(self.policy, rows, self.clock())
        headers = {"Content-Disposition": 'attachment; filename="visitas.ics"'}
        return _secure(Response(content, media_type="text/calendar", headers=headers))

    # -- attachments ---------------------------------------------------------------------------

    async def attachment(self, request: Request) -> Response:
        """A file a citizen sent, for staff who may see its case; 403 without a session, 404
        for anything else."""
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _forbidden()
        try:
            attachment_id = int(request.path_params["id"])
        except ValueError:
            return Response(status_code=404)
        directory = Path(self.app.settings.media.directory).resolve()

        def find() -> tuple[Path, str] | None:
            with self.app.uow() as uow:
                from storage.models import Attachment

                attachment = uow.session.get(Attachment, attachment_id)
                if attachment is None or attachment.case_id is None:
                    return None
                case = uow.cases.get(attachment.case_id)
                if case is None or not visit.scope.allows(case):
                    return None
                if attachment.status != "stored" or not attachment.local_path:
                    return None
                path = Path(attachment.local_path).resolve()
                if not path.is_relative_to(directory) or not path.is_file():
                    return None
                uow.desk.audit(
                    self.clock(),
                    visit.member.id,
                    "opened_attachment",
                    case_id=case.id,
                    detail=str(attachment.id),
                )
                uow.commit()
                return path, attachment.content_type or "application/octet-stream"

        found = await run_in_threadpool(find)
        if found is None:
            return Response(status_code=404)
        path, content_type = found
        return FileResponse(
            path,
            media_type=content_type,
            headers={
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "sandbox; default-src 'none'",
                "Content-Disposition": "inline",
            },
        )

    async def document(self, request: Request) -> Response:
        """A case's constancia or solicitud as PDF, for staff who may see the case (audited);
        403 without a session, 404 for anything else."""
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _forbidden()
        kind, dot, extension = request.path_params["name"].partition(".")
        if kind not in documents.KINDS or (dot, extension) != (".", "pdf"):
            return Response(status_code=404)

        def build() -> documents.Document | None:
            now = self.clock()
            with self.app.uow() as uow:
                case = self._case_for(uow, visit, request.path_params["folio"], lock=False)
                if case is None:
                    return None
                document = documents.build(uow, self.policy, kind, case.id, now)
                uow.desk.audit(now, visit.member.id, "downloaded_document", case_id=case.id)
                uow.commit()
                return document

        document = await run_in_threadpool(build)
        if document is None:
            return Response(status_code=404)
        content = await run_in_threadpool(render_pdf, document)
        return Response(
            content,
            media_type="application/pdf",
            headers={
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'attachment; filename="{document.filename}"',
            },
        )

    # -- saved replies -------------------------------------------------------------------------

    async def saved_replies(self, request: Request) -> Response:
        visit = await run_in_threadpool(self.visit, request)
        if visit is None:
            return _to_login(request)
        if request.method == "POST":
            if not visit.supervising:
                return _forbidden()
            form = await self.form(request, visit)
            if form is None:
                return _forbidden()

            def change() -> str | None:
                with self.app.uow() as uow:
                    staff_id, now = visit.member.id, self.clock()
                    if form.get("borrar"):
                        number = int(str(form["borrar"]))
                        gone = [r.title for r in uow.desk.saved_replies() if r.id == number]
                        uow.desk.delete_saved_reply(number)
                        detail = gone[0] if gone else str(number)
                        uow.desk.audit(now, staff_id, "saved_reply_deleted", detail=detail)
                    else:
                        title = " ".join(str(form.get("titulo", "")).split())[:120]
                        body = str(form.get("texto", "")).strip()[:4000]
                        if not title or not body:
                            return self.t("saved.needs_both")
                        if any(r.title == title for r in uow.desk.saved_replies()):
                            return self.t("saved.exists")
                        uow.desk.add_saved_reply(SavedReply(title=title, body=body, created_at=now))
                        uow.desk.audit(now, staff_id, "saved_reply_added", detail=title)
                    uow.commit()
                return None

            try:
                problem = await run_in_threadpool(change)
            except ValueError:
                problem = self.t("saved.needs_both")
            if problem is None:
                return RedirectResponse("/mesa/respuestas?hecho=guardada", status_code=303)
        else:
            problem = None

        def listing() -> list[SavedReply]:
            with self.app.uow() as uow:
                return uow.desk.saved_replies()

        replies = await run_in_threadpool(listing)
        return self.render(
            "respuestas.html",
            status=400 if problem else 200,
            visit=visit,
            replies=replies,
            problem=problem,
            notice=self._notice(request),
        )

    async def home(self, request: Request) -> Response:
        return RedirectResponse("/mesa/bandeja", status_code=303)


PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")  # photos a browser shows


def _pick(value: Any, valid: tuple[str, ...]) -> str | None:
    return value if isinstance(value, str) and value in valid else None


def _url(path: str, kept: dict, **more: Any) -> str:
    return f"{path}?{urlencode({**kept, **more})}"


def _safe_next(value: str | None) -> str | None:
    """Where to go after signing in: only a desk page (never another site)."""
    if value and value.startswith("/mesa/") and "//" not in value and "\\" not in value:
        return value[:300]
    return None


def _to_login(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse("/mesa/login?" + urlencode({"siguiente": target}), status_code=303)


def _forbidden() -> Response:
    return _secure(HTMLResponse(desk_texts()("errors.forbidden"), status_code=403))


def _secure(response: Response) -> Response:
    response.headers.update(
        {
            "Content-Security-Policy": (
                "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                "style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'"
            ),
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Cache-Control": "no-store",
        }
    )
    return response


def _bulk_missing(folios: list, what: object, form) -> str | None:
    """The text key saying what a bulk action lacks (no case marked, no person or status
    chosen), before any case is touched; None when nothing is missing."""
    if not folios:
        return "bulk.none_marked"
    if what == "asignar" and not str(form.get("personal", "")).strip():
        return "bulk.no_staff"
    if what == "estado" and not str(form.get("estado", "")).strip():
        return "bulk.no_status"
    return None
