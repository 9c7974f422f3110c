"""How cases look to staff on the command line: tables, JSON and CSV rows, one case in full."""

import sys
from datetime import datetime
from typing import Any

import typer

from bot.app import App
from handlers.casework.cases import direction, event_note, event_summary, message_text
from handlers.casework.reach import PHONE
from handlers.core.cells import spreadsheet_safe
from handlers.core.labels import staff_label
from handlers.core.normalise import strip_controls
from handlers.core.texts import Texts
from storage.models import Case


def assignee_name(uow: Any, case: Case) -> str | None:
    if case.assignee_id is None:
        return None
    member = uow.staff.get(case.assignee_id)
    return member.name if member else None


def case_summary(app: App, uow: Any, case: Case) -> dict[str, Any]:
    """The fields of `cases list --json` (spec section 5)."""
    return {
        "folio": case.folio,
        "type": case.type,
        "topic": case.topic,
        "urgency": case.urgency,
        "status": case.status,
        "channel": case.channel,
        "created_at": case.created_at.isoformat(timespec="seconds"),
        "due_date": app.policy.calendar.local_date(case.due_at).isoformat(),
        "assignee": assignee_name(uow, case),
        "municipality": case.municipality,
        "anonymous": case.anonymous,
    }


EXPORT_FIELDS = [
    "folio",
    "type",
    "topic",
    "urgency",
    "status",
    "channel",
    "created_at",
    "due_date",
    "assignee",
    "municipality",
    "district",
    "department",
    "anonymous",
    "location_text",
    "latitude",
    "longitude",
    "gender",
    "age",
    "deadline_days",
    "first_response_at",
    "closed_at",
    "description",
]


def case_export_row(app: App, uow: Any, case: Case) -> dict[str, Any]:
    """One row of `cases export`: the summary plus what a report or audit needs."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat(timespec="seconds") if value else None

    return {
        **case_summary(app, uow, case),
        "district": case.district,
        "department": case.department,
        "location_text": case.location_text,
        "latitude": case.latitude,
        "longitude": case.longitude,
        "gender": case.gender,
        "age": case.age,
        "deadline_days": case.deadline_days,
        "first_response_at": iso(case.first_response_at),
        "closed_at": iso(case.closed_at),
        "description": case.description,
    }


LABELLED = ("type", "topic", "urgency", "status", "channel")


def with_labels(t: Texts, row: dict[str, Any]) -> dict[str, Any]:
    """A summary with the words staff read for its codes ("calles y caminos", "En proceso",
    "Teléfono"), for the terminal; `--json` and `cases export` keep the codes (spec section 5)."""
    return {
        **row,
        **{key: staff_label(t, key, row[key]) for key in LABELLED if row.get(key) is not None},
    }


TABLE_COLUMNS = {
    "folio": "folio",
    "type": "type",
    "topic": "topic",
    "urgency": "urgency",
    "status": "status",
    "channel": "channel",
    "created_at": "created",
    "due_date": "due",
    "assignee": "assignee",
}


def print_table(t: Texts, rows: list[dict[str, Any]]) -> None:
    """A table on a terminal; tab-separated lines when piped."""
    headers = [t(f"cli.col_{header}") for header in TABLE_COLUMNS.values()]
    cells = [[str(row[c] or "") for c in TABLE_COLUMNS] for row in rows]
    if not sys.stdout.isatty():
        for line in [headers, *cells]:
            typer.echo("\t".join(line))
        return
    from rich.console import Console  # lazy: only a table on a terminal needs it
    from rich.table import Table

    table = Table(*headers)
    for line in cells:
        table.add_row(*line)
    Console().print(table)


# The further lines of a message or a note in `cases show`, under its first.
INDENT = "\n    "


def render_case(app: App, uow: Any, case: Case) -> str:
    """A case with its messages, attachments and history, for staff."""
    t = app.policy.texts
    policy = app.policy
    summary = with_labels(t, case_summary(app, uow, case))
    lines = [t("cli.show_header", folio=case.folio)]
    for key in ("type", "topic", "urgency", "status", "channel"):
        lines.append(f"  {t('cli.col_' + key)}: {summary[key]}")
    anonymous = case.anonymous
    lines.append(
        f"  {t('cli.col_created')}: {policy.local_time(case.created_at, anonymous=anonymous)}"
    )
    due_key = "cli.show_due" if case.deadline_days else "cli.show_due_same_day"
    days = t.plural("amounts.business_days", case.deadline_days)
    lines.append(t(due_key, due=policy.local_day(case.due_at), days=days))
    if case.assignee_id:
        lines.append(f"  {t('cli.col_assignee')}: {summary['assignee']}")
    if case.extension_days:
        lines.append(
            t("cli.show_extension", days=t.plural("amounts.business_days", case.extension_days))
        )
    if case.paused_at is not None:
        lines.append(
            t("cli.show_paused", since=policy.local_time(case.paused_at, anonymous=anonymous))
        )
    if case.prioritised:
        key = "cli.show_prioritised_women" if case.affects_women else "cli.show_prioritised"
        lines.append(t(key))
    if case.referred_to:
        lines.append(t("cli.show_referred", institution=case.referred_to))
    if case.resolution:
        lines.append(t("cli.show_resolution", resolution=case.resolution))
    if case.survey_resolved is not None or case.survey_rating is not None:
        resolved = {True: t("survey.yes"), False: t("survey.no"), None: "-"}[case.survey_resolved]
        rating = case.survey_rating or "-"
        lines.append(t("cli.show_survey", resolved=resolved, rating=rating))
    if case.anonymous:
        lines.append(t("cli.show_anonymous"))
    elif case.contact_id:
        contact = uow.contacts.get(case.contact_id)
        if contact.channel == "telefono" and not PHONE.fullmatch(contact.address):
            # A name left at a call or a walk-in without a number: its address is a placeholder.
            line = t(
                "cli.show_citizen_no_number",
                name=contact.name or t("cli.unnamed"),
                contact_id=contact.id,
            )
        else:
            line = t(
                "cli.show_citizen",
                name=contact.name or t("cli.unnamed"),
                channel=t(f"labels.channel.{contact.channel}"),
                address=contact.address,
                contact_id=contact.id,
            )
        lines.append(line)
    elif case.channel in ("telefono", "presencial"):
        lines.append(t("cli.show_citizen_nobody"))
    if case.municipality:
        lines.append(t("cli.show_municipality", municipality=case.municipality))
    if case.department:
        lines.append(t("cli.show_department", department=case.department))
    if case.district:
        lines.append(t("cli.show_district", district=case.district))
    if case.location_text:
        lines.append(t("cli.show_location", location=case.location_text))
    if case.latitude is not None:
        lines.append(t("cli.show_coordinates", latitude=case.latitude, longitude=case.longitude))
    lines += [t("cli.show_description"), *("  " + line for line in case.description.splitlines())]
    lines.append(t("cli.show_messages"))
    for message in uow.messages.for_case(case.id):
        arrow = direction(t, message)
        # Whole, as the person read it: its further lines indented under the first.
        body = INDENT.join(message_text(t, message).splitlines() or [""])
        if message.direction == "out" and t.has(f"cli.delivery_{message.status}"):
            body = f"{body} {t(f'cli.delivery_{message.status}')}"
        lines.append(
            t(
                "cli.show_message_line",
                at=policy.local_time(message.created_at, anonymous=anonymous),
                direction=arrow,
                body=body,
            )
        )
    attachments = uow.messages.attachments_for_case(case.id)
    if attachments:
        lines.append(t("cli.show_attachments"))
        lines += [
            t(
                "cli.show_attachment_line",
                kind=a.kind,
                content_type=a.content_type or "",
                ref=a.local_path or a.provider_ref,
            )
            for a in attachments
        ]
    lines.append(t("cli.show_history"))
    for event in uow.cases.events(case.id):
        note = f" — {INDENT.join(event_note(t, event).splitlines())}" if event.note else ""
        lines.append(
            t(
                "cli.show_event_line",
                at=policy.local_time(event.at, anonymous=anonymous),
                actor=event.actor,
                what=event_summary(t, event, for_staff=True),
                note=note,
            )
        )
    # What was stored before controls were stripped on the way in is cleaned on the way out.
    return strip_controls("\n".join(lines))


TIME_FIELDS = ("created_at", "first_response_at", "closed_at")


def spreadsheet_row(app: App, row: dict[str, Any]) -> dict[str, Any]:
    """An export row for a spreadsheet: times in the institution's zone ("2026-03-04 10:15"),
    yes/no in Spanish, and every text cell a spreadsheet would run as a formula neutralised."""
    t, tz = app.policy.texts, app.policy.calendar.tz
    local = dict(row)
    for field in TIME_FIELDS:
        if local[field]:
            local[field] = datetime.fromisoformat(local[field]).astimezone(tz)
            local[field] = local[field].strftime("%Y-%m-%d %H:%M")
    local["anonymous"] = t("survey.yes") if row["anonymous"] else t("survey.no")
    return spreadsheet_safe_row(local)


def spreadsheet_safe_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row with every text cell that a spreadsheet would run as a formula neutralised."""
    return {key: spreadsheet_safe(value) for key, value in row.items()}
