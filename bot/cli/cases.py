"""Staff work from the terminal: `cases ...`, through the casework functions the chat uses."""

import csv
import io
import json
import sys
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from bot.cli.context import (
    CliContext,
    Failure,
    cannot_write,
    check_label,
    cli_context,
    command_group,
    config_option,
    parse_day,
)
from handlers.core.labels import CASE_TYPES, STATUSES, URGENCIES
from handlers.core.texts import Texts

# The casework, the database and the views are imported by the commands when they run (the
# `casework` name inside each action), so that `--help` and other commands start without them.
if TYPE_CHECKING:
    from bot.app import App
    from handlers.casework.lifecycle import Actor
    from handlers.core.policy import CasePolicy
    from storage.models import Case, Staff

# Without --as, terminal actions are recorded as the terminal, with an
# administrator's rights: whoever runs the CLI already holds the database.
TERMINAL = ("consola", "admin")

# What one action does to one case: (uow, policy, case, actor, now) -> the citizen's replies.
Action = Callable[[Any, "CasePolicy", "Case", "Actor", datetime], list]


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `cases` group to the command tree."""
    cases = command_group(t("cli.cases_help"))
    cli.add_typer(cases, name="cases")
    add_reading_commands(cases, t)
    add_work_commands(cases, t)
    add_export_command(cases, t)
    add_more_work_commands(cases, t)


def add_reading_commands(cases: typer.Typer, t: Texts) -> None:
    """`cases list` and `cases show`."""
    Config = config_option(t)

    @cases.command("list", help=t("cli.cases_list_help"))
    def cases_list(
        ctx: typer.Context,
        status: Annotated[str | None, typer.Option(help=t("cli.status_option"))] = None,
        type_: Annotated[str | None, typer.Option("--type", help=t("cli.type_option"))] = None,
        topic: Annotated[str | None, typer.Option(help=t("cli.topic_option"))] = None,
        municipality: Annotated[str | None, typer.Option(help=t("cli.municipality_option"))] = None,
        assignee: Annotated[str | None, typer.Option(help=t("cli.assignee_option"))] = None,
        as_json: Annotated[bool, typer.Option("--json", help=t("cli.json_option"))] = False,
        config: Config = None,
    ) -> None:
        filters = {
            "status": status,
            "case_type": type_,
            "topic": topic,
            "municipality": municipality,
        }
        list_cases(cli_context(ctx), config, filters, assignee, as_json)

    @cases.command("show", help=t("cli.cases_show_help"))
    def cases_show(ctx: typer.Context, folio: str, config: Config = None) -> None:
        show_case(cli_context(ctx), config, folio)

    Output = Annotated[str | None, typer.Option("--output", "-o", help=t("cli.output_option"))]

    @cases.command("constancia", help=t("cli.cases_constancia_help"))
    def cases_constancia(
        ctx: typer.Context, folio: str, output: Output = None, config: Config = None
    ) -> None:
        write_document(cli_context(ctx), config, folio, "constancia", output)

    @cases.command("solicitud", help=t("cli.cases_solicitud_help"))
    def cases_solicitud(
        ctx: typer.Context, folio: str, output: Output = None, config: Config = None
    ) -> None:
        write_document(cli_context(ctx), config, folio, "solicitud", output)


def add_work_commands(cases: typer.Typer, t: Texts) -> None:
    """`cases assign|status|reply|close|new`, the first staff actions of the terminal."""
    Config = config_option(t)
    As = Annotated[str | None, typer.Option("--as", help=t("cli.as_option"))]

    @cases.command("assign", help=t("cli.cases_assign_help"))
    def cases_assign(
        ctx: typer.Context, folio: str, staff_: str, as_: As = None, config: Config = None
    ) -> None:
        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework

            member = staff_member(uow, policy, staff_)
            return casework.assign(uow, policy, case, member, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)

    @cases.command("status", help=t("cli.cases_status_help"))
    def cases_status(
        ctx: typer.Context,
        folio: str,
        status: str,
        note: Annotated[str, typer.Option("--note", help=t("cli.note_option"))] = "",
        as_: As = None,
        config: Config = None,
    ) -> None:
        check_label(t, "cli.unknown_status", status, STATUSES)

        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework

            return casework.set_status(uow, policy, case, status, note, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)

    @cases.command("reply", help=t("cli.cases_reply_help"))
    def cases_reply(
        ctx: typer.Context,
        folio: str,
        text: str,
        yes: Annotated[bool, typer.Option("--yes", help=t("cli.reply_yes_option"))] = False,
        as_: As = None,
        config: Config = None,
    ) -> None:
        state = cli_context(ctx)
        closed_ok = yes or confirm_reply_to_closed(state, config, folio)
        said: list[str] = []

        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework
            from handlers.casework.staff import reply_done

            replies = casework.reply(uow, policy, case, text, actor, now, closed_ok=closed_ok)
            said.append(reply_done(uow, policy, case))
            return replies

        work_on(state, config, as_, folio, action, said=said)

    @cases.command("close", help=t("cli.cases_close_help"))
    def cases_close(
        ctx: typer.Context,
        folio: str,
        resolution: Annotated[str, typer.Option("--resolution", help=t("cli.resolution_option"))],
        as_: As = None,
        config: Config = None,
    ) -> None:
        said: list[str] = []

        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework
            from handlers.casework.staff import close_done

            pending = [v.id for v in uow.visits.for_case(case.id) if v.status != "cancelled"]
            replies = casework.close(uow, policy, case, resolution, actor, now)
            said.append(close_done(uow, policy, case) or policy.texts("cli.done", folio=folio))
            reason = policy.texts("visits.cancelled_case_closed")
            for visit in uow.visits.for_case(case.id):
                if visit.id in pending and visit.status == "cancelled":
                    said.append(
                        policy.texts(
                            "visits.done_cancelled_on_close", number=visit.id, reason=reason
                        )
                    )
            return replies

        work_on(cli_context(ctx), config, as_, folio, action, said=said)

    @cases.command("new", help=t("cli.cases_new_help"))
    def cases_new(
        ctx: typer.Context,
        channel: Annotated[str, typer.Option("--channel", help=t("cli.channel_option"))],
        type_: Annotated[str, typer.Option("--type", help=t("cli.case_type_option"))],
        text: Annotated[str, typer.Option("--text", help=t("cli.text_option"))],
        topic: Annotated[str | None, typer.Option(help=t("cli.case_topic_option"))] = None,
        municipality: Annotated[
            str | None, typer.Option(help=t("cli.case_municipality_option"))
        ] = None,
        urgency: Annotated[str | None, typer.Option(help=t("cli.case_urgency_option"))] = None,
        name: Annotated[
            str | None, typer.Option("--name", help=t("cli.caller_name_option"))
        ] = None,
        phone: Annotated[str | None, typer.Option("--phone", help=t("cli.phone_option"))] = None,
        answered: Annotated[
            str | None, typer.Option("--answered", help=t("cli.answered_option"))
        ] = None,
        gender: Annotated[str | None, typer.Option("--gender", help=t("cli.gender_option"))] = None,
        age: Annotated[int | None, typer.Option("--age", help=t("cli.age_option"))] = None,
        as_: As = None,
        config: Config = None,
    ) -> None:
        details = {
            "channel": channel,
            "case_type": type_,
            "text": text,
            "topic": topic,
            "municipality": municipality,
            "urgency": urgency,
            "name": name,
            "phone": phone,
            "answered": answered,
        }
        new_case(cli_context(ctx), config, as_, details | {"gender": gender, "age": age})


def add_export_command(cases: typer.Typer, t: Texts) -> None:
    """`cases export`."""
    Config = config_option(t)

    @cases.command("export", help=t("cli.cases_export_help"))
    def cases_export(
        ctx: typer.Context,
        format_: Annotated[str, typer.Option("--format", help=t("cli.format_option"))] = "csv",
        from_: Annotated[str | None, typer.Option("--from", help=t("cli.from_option"))] = None,
        to: Annotated[str | None, typer.Option("--to", help=t("cli.to_option"))] = None,
        config: Config = None,
    ) -> None:
        export_cases(cli_context(ctx), config, format_, from_, to)


def add_more_work_commands(cases: typer.Typer, t: Texts) -> None:
    """`cases note|reclassify|priority|extend|refer|request-info|discard`: the rest of what the
    chat's staff desk offers."""
    Config = config_option(t)
    As = Annotated[str | None, typer.Option("--as", help=t("cli.as_option"))]
    Reason = Annotated[str, typer.Option("--reason", help=t("cli.reason_option"))]

    @cases.command("note", help=t("cli.cases_note_help"))
    def cases_note(
        ctx: typer.Context, folio: str, text: str, as_: As = None, config: Config = None
    ) -> None:
        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework

            return casework.add_note(uow, policy, case, text, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)

    @cases.command("place", help=t("cli.cases_place_help"))
    def cases_place(
        ctx: typer.Context, folio: str, text: str, as_: As = None, config: Config = None
    ) -> None:
        set_case_place(cli_context(ctx), config, as_, folio, text)

    @cases.command("reclassify", help=t("cli.cases_reclassify_help"))
    def cases_reclassify(
        ctx: typer.Context,
        folio: str,
        type_: Annotated[str | None, typer.Option("--type", help=t("cli.new_type_option"))] = None,
        topic: Annotated[str | None, typer.Option(help=t("cli.new_topic_option"))] = None,
        urgency: Annotated[str | None, typer.Option(help=t("cli.new_urgency_option"))] = None,
        as_: As = None,
        config: Config = None,
    ) -> None:
        labels = {"case_type": type_, "topic": topic, "urgency": urgency}
        reclassify(cli_context(ctx), config, as_, folio, labels)

    @cases.command("priority", help=t("cli.cases_priority_help"))
    def cases_priority(
        ctx: typer.Context,
        folio: str,
        reason: Annotated[str, typer.Option("--reason", help=t("cli.priority_reason_option"))] = "",
        off: Annotated[bool, typer.Option("--off", help=t("cli.priority_off_option"))] = False,
        women: Annotated[
            bool, typer.Option("--women", help=t("cli.priority_women_option"))
        ] = False,
        as_: As = None,
        config: Config = None,
    ) -> None:
        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework
            from handlers.casework import visits

            if women:
                visits.mark_women(uow, policy, case, not off, actor, now)
                return []
            return casework.prioritise(uow, policy, case, not off, reason, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)

    @cases.command("extend", help=t("cli.cases_extend_help"))
    def cases_extend(
        ctx: typer.Context,
        folio: str,
        days: int,
        reason: Reason = "",
        as_: As = None,
        config: Config = None,
    ) -> None:
        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework

            return casework.extend(uow, policy, case, days, reason, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)

    @cases.command("refer", help=t("cli.cases_refer_help"))
    def cases_refer(
        ctx: typer.Context, folio: str, institution: str, as_: As = None, config: Config = None
    ) -> None:
        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework

            return casework.refer(uow, policy, case, institution, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)

    @cases.command("request-info", help=t("cli.cases_request_info_help"))
    def cases_request_info(
        ctx: typer.Context, folio: str, question: str, as_: As = None, config: Config = None
    ) -> None:
        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework

            return casework.request_info(uow, policy, case, question, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)

    @cases.command("discard", help=t("cli.cases_discard_help"))
    def cases_discard(
        ctx: typer.Context, folio: str, reason: Reason = "", as_: As = None, config: Config = None
    ) -> None:
        def action(uow, policy, case, actor, now):
            from handlers.casework import actions as casework

            return casework.discard(uow, policy, case, reason, actor, now)

        work_on(cli_context(ctx), config, as_, folio, action)


# -- what the commands do ---------------------------------------------------------------------


def act(state: CliContext, app: "App", who: str | None, work: Callable[..., list]) -> None:
    """Run one staff action in a transaction: its citizen replies go to the outbox."""
    from handlers.casework.lifecycle import NotAllowed
    from handlers.dialogue.intake import queue

    now = state.clock()
    with app.uow() as uow:
        try:
            actor = actor_for(app, uow, who)
            replies = work(uow, actor, now) or []
        except NotAllowed as exc:
            raise Failure(str(exc)) from exc
        queue(uow, replies, now)
        uow.commit()


def work_on(
    state: CliContext,
    config: str | None,
    who: str | None,
    folio: str,
    action: Action,
    *,
    said: list[str] | None = None,
):
    """One staff action on one case, from the terminal, as the chat's staff desk does it; what
    the action `said` is printed, else "Listo"."""
    from handlers.casework import actions as casework

    app = state.open_app(config, migrate=False)

    def work(uow, actor, now):
        return action(uow, app.policy, casework.find_case(uow, app.policy, folio), actor, now)

    act(state, app, who, work)
    for line in said or [state.texts("cli.done", folio=folio)]:
        typer.echo(line)


def confirm_reply_to_closed(state: CliContext, config: str | None, folio: str) -> bool:
    """Whether a reply to this case may go although it is closed or discarded: the person at
    the terminal is warned and asked; without a terminal the command is refused, saying how to
    confirm (--yes). False for an open case (nothing to confirm)."""
    from handlers.casework import actions as casework
    from handlers.casework.lifecycle import NotAllowed

    t, app = state.texts, state.open_app(config, migrate=False)
    with app.uow() as uow:
        try:
            case = casework.find_case(uow, app.policy, folio)
            casework.reply_allowed(uow, app.policy, case)
        except casework.ClosedCase as exc:
            warning = str(exc)
            case_folio = case.folio
        except NotAllowed:
            return False  # said by the reply itself (an unknown folio...)
        else:
            return False
    if not state.interactive():
        raise Failure(f"{warning} {t('cli.reply_closed_how', folio=case_folio)}")
    typer.echo(warning)
    typer.echo(f"{t('cli.reply_closed_question')} ", nl=False)
    if sys.stdin.readline().strip().lower() not in ("s", "si", "sí", "y", "yes"):
        raise Failure(t("cli.reply_closed_declined"))
    return True


def staff_member(uow: Any, policy: "CasePolicy", who: str) -> "Staff":
    """An active staff member by id or exact name."""
    from handlers.casework import actions as casework
    from handlers.casework.lifecycle import NotAllowed

    try:
        return casework.find_staff(uow, policy, who)
    except NotAllowed as exc:
        raise Failure(str(exc)) from exc


def actor_for(app: "App", uow: Any, who: str | None) -> "Actor":
    """Who the history records: the staff member of `--as`, else the terminal."""
    from handlers.casework.lifecycle import Actor
    from handlers.casework.staff import actor_of

    return actor_of(staff_member(uow, app.policy, who)) if who else Actor(*TERMINAL)


def reclassify(
    state: CliContext, config: str | None, who: str | None, folio: str, labels: dict[str, Any]
) -> None:
    """Correct type, topic or urgency, each checked against its labels first."""
    t = state.texts
    check_label(t, "cli.unknown_type", labels["case_type"], CASE_TYPES)
    check_label(t, "cli.unknown_urgency", labels["urgency"], URGENCIES)
    if not any(labels.values()):
        raise Failure(t("cli.reclassify_nothing"))
    app = state.open_app(config, migrate=False)
    check_label(t, "cli.unknown_topic", labels["topic"], app.policy.topics)

    def action(uow, policy, case, actor, now):
        from handlers.casework import actions as casework

        return casework.reclassify_case(uow, policy, case, actor, now, **labels)

    work_on(state, config, who, folio, action)


def set_case_place(
    state: CliContext, config: str | None, who: str | None, folio: str, text: str
) -> None:
    """Correct where the case happened (the gazetteer's unit, or the text as written)."""
    from handlers.casework import actions as casework
    from handlers.casework.places import placed_words, set_place

    app = state.open_app(config, migrate=False)
    shown: list[str] = []

    def work(uow, actor, now):
        case = casework.find_case(uow, app.policy, folio)
        set_place(uow, app.policy, case, text, actor, now)
        place = placed_words(state.texts, case, text)
        shown.append(state.texts("staff.done_place", folio=case.folio, place=place))
        return []

    act(state, app, who, work)
    typer.echo(shown[0])


def new_case(state: CliContext, config: str | None, who: str | None, details: dict) -> None:
    """Log a phone call or a walk-in; its card goes to the staff chat."""
    from handlers.casework import actions as casework
    from handlers.casework.staff import new_case_cards

    app = state.open_app(config, migrate=False)
    created: list[str] = []

    def work(uow, actor, now):
        case = casework.register_case(uow, app.policy, actor=actor, now=now, **details)
        created.append(case.folio)
        # One answered on the spot is closed already: nothing for the staff chat to take.
        return [] if details.get("answered") else new_case_cards(uow, app.policy, case)

    act(state, app, who, work)
    key = "cli.case_answered" if details.get("answered") else "cli.case_created"
    typer.echo(state.texts(key, folio=created[0]))


def list_cases(
    state: CliContext,
    config: str | None,
    filters: dict[str, str | None],
    assignee: str | None,
    as_json: bool,
) -> None:
    """The cases, oldest first, as a table or JSON."""
    from bot.case_views import case_summary, print_table, with_labels
    from handlers.casework.lifecycle import NotAllowed
    from handlers.casework.staff import find_member

    t = state.texts
    check_label(t, "cli.unknown_status", filters["status"], STATUSES)
    check_label(t, "cli.unknown_type", filters["case_type"], CASE_TYPES)
    app = state.open_app(config, migrate=False)
    with app.uow() as uow:
        assignee_id = None
        if assignee:
            # A deactivated member's cases too: they are the ones to reassign.
            try:
                assignee_id = find_member(uow, app.policy, assignee).id
            except NotAllowed as exc:
                raise Failure(str(exc)) from exc
        found = uow.cases.search(**filters, assignee_id=assignee_id)
        rows = [case_summary(app, uow, case) for case in found]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    elif not rows:
        typer.echo(t("cli.no_cases"))
    else:
        # On a terminal, labels and times as a person at the institution reads them (as
        # `cases show`); --json keeps the codes and UTC (spec section 5).
        policy = app.policy
        print_table(
            t,
            [
                {
                    **with_labels(t, row),
                    "created_at": policy.local_time(case.created_at, anonymous=case.anonymous),
                    "due_date": policy.calendar.local_date(case.due_at).strftime("%d/%m/%Y"),
                }
                for row, case in zip(rows, found, strict=True)
            ],
        )


def show_case(state: CliContext, config: str | None, folio: str) -> None:
    """One case with its messages, attachments and history."""
    from bot.case_views import render_case
    from handlers.casework.cases import normalise_folio

    app = state.open_app(config, migrate=False)
    with app.uow() as uow:
        case = uow.cases.by_folio(normalise_folio(folio) or folio.strip().upper())
        if case is None:
            raise Failure(state.texts("cli.unknown_folio", folio=folio))
        typer.echo(render_case(app, uow, case))


def write_document(
    state: CliContext, config: str | None, folio: str, kind: str, output: str | None
) -> None:
    """A case's document as a PDF file (fpdf2 is loaded by this command only)."""
    from pathlib import Path

    from bot.documents import render_pdf
    from handlers.casework import documents
    from handlers.casework.cases import normalise_folio

    app = state.open_app(config, migrate=False)
    with app.uow() as uow:
        case = uow.cases.by_folio(normalise_folio(folio) or folio.strip().upper())
        if case is None:
            raise Failure(state.texts("cli.unknown_folio", folio=folio))
        document = documents.build(uow, app.policy, kind, case.id, state.clock())
    assert document is not None  # the case exists and the kind is one of the two
    path = Path(output or document.filename)
    try:
        path.write_bytes(render_pdf(document))
    except OSError as exc:
        raise Failure(cannot_write(state.texts, path, exc)) from exc
    typer.echo(state.texts("cli.document_written", path=path))


def export_cases(
    state: CliContext, config: str | None, format_: str, from_: str | None, to: str | None
) -> None:
    """One row per case created in the dates given, as CSV or JSON."""
    from bot.case_views import EXPORT_FIELDS, case_export_row, spreadsheet_row

    t = state.texts
    check_label(t, "cli.unknown_format", format_, ("csv", "json"))
    first, last = (parse_day(t, from_) if from_ else None), (parse_day(t, to) if to else None)
    if first and last and first > last:
        raise Failure(t("cli.bad_range", first=from_, last=to))
    app = state.open_app(config, migrate=False)
    tz = app.policy.calendar.tz
    start = datetime.combine(first, time(), tzinfo=tz) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz) if last else None
    with app.uow() as uow:
        rows = [
            case_export_row(app, uow, case)
            for case in uow.cases.search(created_from=start, created_to=end)
        ]
    if format_ == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    # For a spreadsheet: a byte-order mark (Excel on Windows then reads UTF-8), the headers in
    # Spanish, times in the institution's zone. JSON keeps the field names and UTC (spec §5).
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([t(f"cli.export_col.{field}") for field in EXPORT_FIELDS])
    for row in rows:
        local = spreadsheet_row(app, row)
        writer.writerow([local[field] for field in EXPORT_FIELDS])
    out.flush()
    out.detach()
