"""The desk's pages for supervisors and administrators: Informes (the tally of a period through
the same function as `tally`, its narrative, chart and downloads; the weekly summary of a week)
and Personal (staff accounts, teams, second-factor reset, the audit log)."""

from __future__ import annotations

import base64
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.desk.web import Desk, Visit, _forbidden, _to_login
from handlers.casework.lifecycle import ROLES
from handlers.reporting.summary import BadWeek, last_full_week, parse_week, week_label
from handlers.reporting.tally import BadPeriod, Period, parse_period

FORMATS = {
    "md": ("text/markdown; charset=utf-8", "md"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
}


class AdminPages:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self.app = desk.app
        self.t = desk.t

    async def _visit(self, request: Request, *, admin: bool) -> Visit | Response:
        visit = await run_in_threadpool(self.desk.visit, request)
        if visit is None:
            return _to_login(request)
        allowed = visit.member.role == "admin" if admin else visit.supervising
        return visit if allowed else self._refused(visit)

    def _refused(self, visit: Visit) -> Response:
        return self.desk.render(
            "aviso.html",
            status=403,
            visit=visit,
            problems=[self.t("errors.role")],
            back="/mesa/bandeja",
        )

    # -- Informes ------------------------------------------------------------------------------

    def _period(self, request: Request) -> Period:
        policy = self.app.policy
        params = request.query_params
        first, last = params.get("desde") or None, params.get("hasta") or None
        if first or last:
            try:
                return parse_period(
                    policy.texts,
                    None,
                    date.fromisoformat(first or ""),
                    date.fromisoformat(last or ""),
                )
            except ValueError as exc:
                raise BadPeriod(policy.texts("report.bad_period", value="")) from exc
        value = (params.get("periodo") or "").strip()[:20]
        if not value:
            today = policy.calendar.local_date(self.desk.clock())
            value = f"{today.year}-T{(today.month - 1) // 3 + 1}"
        return parse_period(policy.texts, value, None, None)

    async def reports(self, request: Request) -> Response:
        from bot.reporting import tally, weekly_summary
        from handlers.reporting.files import received_chart
        from handlers.reporting.summary import render_summary, summary_chart
        from handlers.reporting.tally import tables

        visit = await self._visit(request, admin=False)
        if isinstance(visit, Response):
            return visit
        policy, now = self.app.policy, self.desk.clock()
        problems: list[str] = []
        try:
            period = self._period(request)
        except BadPeriod as exc:
            problems.append(str(exc))
            period = parse_period(
                policy.texts, str(policy.calendar.local_date(now).year), None, None
            )
        week_value = (request.query_params.get("semana") or "").strip()[:10]
        try:
            monday = parse_week(policy.texts, week_value) if week_value else None
        except BadWeek as exc:
            problems.append(str(exc))
            monday = None
        monday = monday or last_full_week(policy.calendar.local_date(now))

        def build() -> dict[str, Any]:
            figures = tally(self.app, period, now=now)
            summary = weekly_summary(self.app, monday, now)
            return {
                "narrative": figures["narrative"],
                "tables": tables(policy.texts, figures),
                "chart": _data_uri(received_chart(policy.texts, figures)),
                "summary": render_summary(policy.texts, summary),
                "summary_chart": _data_uri(summary_chart(policy.texts, summary)),
            }

        built = await run_in_threadpool(build)
        query = (
            {"periodo": period.label}
            if "/" not in period.label
            else {
                "desde": period.first.isoformat(),
                "hasta": period.last.isoformat(),
            }
        )
        return self.desk.render(
            "informes.html",
            status=400 if problems else 200,
            visit=visit,
            period=period,
            week=week_label(monday),
            problem=" ".join(problems) or None,
            downloads={
                fmt: "/mesa/informes/descarga?" + urlencode({**query, "formato": fmt})
                for fmt in FORMATS
            },
            **built,
        )

    async def download(self, request: Request) -> Response:
        from bot.reporting import tally
        from handlers.reporting.files import render_report

        visit = await run_in_threadpool(self.desk.visit, request)
        if visit is None:
            return _forbidden()
        if not visit.supervising:
            return self._refused(visit)
        fmt = request.query_params.get("formato", "")
        if fmt not in FORMATS:
            return Response(status_code=404)
        try:
            period = self._period(request)
        except BadPeriod:
            return Response(status_code=404)
        now = self.desk.clock()

        def build() -> bytes:
            data = render_report(self.app.policy.texts, tally(self.app, period, now=now), fmt, None)
            with self.app.uow() as uow:
                uow.desk.audit(now, visit.member.id, "downloaded_report", detail=period.label)
                uow.commit()
            return data

        data = await run_in_threadpool(build)
        media_type, extension = FORMATS[fmt]
        name = f"informe-{period.label.replace('/', '_')}.{extension}"
        return Response(
            data,
            media_type=media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    # -- Personal ------------------------------------------------------------------------------

    async def staff(
        self, request: Request, visit: Visit | None = None, problem: str | None = None
    ) -> Response:
        if visit is None:
            checked = await self._visit(request, admin=True)
            if isinstance(checked, Response):
                return checked
            visit = checked

        def listing() -> dict[str, Any]:
            from sqlmodel import col, select

            from storage.models import Staff, Team, TeamMember

            with self.app.uow() as uow:
                members = list(uow.session.exec(select(Staff).order_by(col(Staff.name))))
                teams = list(uow.session.exec(select(Team).order_by(col(Team.name))))
                links = list(uow.session.exec(select(TeamMember)))
                codes = {m.id: uow.desk.recovery_codes_left(m.id) for m in members}
                audit = uow.desk.audit_entries(limit=200)
            names = {m.id: m.name for m in members}
            return {
                "members": members,
                "codes": codes,
                "teams": [
                    (
                        team,
                        [
                            names.get(link.staff_id, "?")
                            for link in links
                            if link.team_id == team.id
                        ],
                    )
                    for team in teams
                ],
                "audit": [(entry, names.get(entry.staff_id or 0, "—")) for entry in audit],
            }

        return self.desk.render(
            "personal.html",
            visit=visit,
            notice=None if problem else self.desk._notice(request),
            problem=problem,
            roles=ROLES,
            **await run_in_threadpool(listing),
        )

    async def change_member(self, request: Request) -> Response:
        """Activate, deactivate, change the role of, or unbind the chats of a staff member,
        through the staff-operations functions the CLI and the chat call; audited."""
        from handlers.casework import staff as accounts
        from handlers.casework.lifecycle import NotAllowed

        visit = await self._visit(request, admin=True)
        if isinstance(visit, Response):
            return visit
        form = await self.desk.form(request, visit)
        if form is None:
            return _forbidden()
        action = request.path_params["accion"]
        if action not in MEMBER_ACTIONS:
            return Response(status_code=404)
        try:
            staff_id = int(request.path_params["id"])
        except ValueError:
            return Response(status_code=404)

        def change() -> str | None:
            with self.app.uow() as uow:
                if uow.staff.get(staff_id) is None:
                    return None
                policy = self.app.policy
                member = accounts.find_member(uow, policy, str(staff_id))
                detail = member.name
                if action in ("activar", "desactivar"):
                    accounts.set_active(uow, policy, member, action == "activar")
                    if action == "desactivar":
                        uow.desk.end_sessions_of(member.id)
                elif action == "rol":
                    role = str(form.get("rol") or "")
                    accounts.set_role(uow, policy, member, role)
                    detail = f"{member.name}: {role}"
                else:
                    done = accounts.unbind(
                        uow,
                        policy,
                        member,
                        telegram=form.get("telegram") == "1",
                        whatsapp=form.get("whatsapp") == "1",
                    )
                    detail = f"{member.name}: {', '.join(done)}"
                uow.session.add(member)
                uow.desk.audit(
                    self.desk.clock(), visit.member.id, MEMBER_ACTIONS[action], detail=detail
                )
                uow.commit()
                return action

        try:
            done = await run_in_threadpool(change)
        except NotAllowed as exc:
            response = await self.staff(request, visit=visit, problem=str(exc))
            response.status_code = 409
            return response
        if done is None:
            return Response(status_code=404)
        return RedirectResponse(f"/mesa/personal?hecho=personal_{done}", status_code=303)

    async def reset_second_factor(self, request: Request) -> Response:
        """The member's authenticator and recovery codes stop working and their sessions end;
        they enrol again with `staff totp`."""
        visit = await self._visit(request, admin=True)
        if isinstance(visit, Response):
            return visit
        if await self.desk.form(request, visit) is None:
            return _forbidden()
        try:
            staff_id = int(request.path_params["id"])
        except ValueError:
            return Response(status_code=404)

        def reset() -> bool:
            with self.app.uow() as uow:
                member = uow.staff.get(staff_id)
                if member is None:
                    return False
                member.totp_secret, member.totp_last_step = None, None
                uow.session.add(member)
                uow.desk.replace_recovery_codes(member.id, [])
                uow.desk.end_sessions_of(member.id)
                uow.desk.audit(
                    self.desk.clock(), visit.member.id, "second_factor_reset", detail=member.name
                )
                uow.commit()
                return True

        if not await run_in_threadpool(reset):
            return Response(status_code=404)
        return RedirectResponse("/mesa/personal?hecho=segundo_factor", status_code=303)


# The Personal page's buttons and the audit-log action each one writes.
MEMBER_ACTIONS = {
    "activar": "staff_activated",
    "desactivar": "staff_deactivated",
    "rol": "staff_role_changed",
    "desvincular": "staff_unbound",
}


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
