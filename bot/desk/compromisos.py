"""The Compromisos page: every pending commitment the member may see, the overdue first, each
with its case's folio (a link to the case, where it is met or moved)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.desk.commitments import Row, rows
from bot.desk.web import Desk, _to_login

LISTED = 200  # pending commitments the page reads (the earliest dates first)


class CommitmentsPage:
    """/mesa/compromisos: every pending commitment the member may see, the overdue first."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def _rows(self, visit) -> list[Row]:
        """The pending commitments of the cases the member may see."""
        now = self.desk.clock()
        with self.desk.app.uow() as uow:
            listed = []
            for commitment, folio in uow.commitments.pending(LISTED):
                case = uow.cases.get(commitment.case_id)
                if case is not None and visit.scope.allows(case):
                    listed.append((commitment, folio))
            return rows(uow, self.desk.policy, listed, now)

    async def page(self, request: Request) -> Response:
        """The list, for a signed-in member."""
        visit = await run_in_threadpool(self.desk.visit, request)
        if visit is None:
            return _to_login(request)
        found = await run_in_threadpool(self._rows, visit)
        overdue = sum(1 for row in found if row.overdue)
        return self.desk.render("compromisos.html", visit=visit, rows=found, overdue=overdue)
