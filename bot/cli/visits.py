"""Field visits from the terminal: `visits propose|confirm|done|cancel|missed|list|ics`, through
the casework functions the chat and the desk use."""

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.cases import act, work_on
from bot.cli.context import Failure, cli_context, command_group, config_option
from handlers.core.texts import Texts


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `visits` group to the command tree."""
    Config = config_option(t)
    group = command_group(t("cli.visits_help"))
    cli.add_typer(group, name="visits")
    As = Annotated[str | None, typer.Option("--as", help=t("cli.as_option"))]
    Number = Annotated[str, typer.Argument(help=t("cli.visits_number"), show_default=False)]
    Reason = Annotated[str, typer.Option("--reason", help=t("cli.reason_option"))]
    Staff = Annotated[str | None, typer.Option("--staff", help=t("cli.visits_staff_option"))]

    @group.command("propose", help=t("cli.visits_propose_help"))
    def visits_propose(
        ctx: typer.Context,
        folio: str,
        day: Annotated[
            str, typer.Option("--date", help=t("cli.visits_date_option"), metavar="FECHA")
        ],
        start: Annotated[str, typer.Option("--from", help=t("cli.visits_from_option"))],
        end: Annotated[str, typer.Option("--to", help=t("cli.visits_to_option"))],
        who: Annotated[
            str, typer.Option("--who", help=t("cli.visits_who_option"), metavar="QUIÉN")
        ] = "",
        as_: As = None,
        config: Config = None,
    ) -> None:
        said: list[str] = []

        def action(uow, policy, case, actor, now):
            from handlers.casework import visits
            from handlers.casework.reach import reach_reporter

            slot = visits.parse_slot(policy, day, f"{start}-{end}", now)
            visit, replies = visits.propose(uow, policy, case, slot, who, actor, now)
            when = visits.describe_slot(policy, visit)
            said.append(t("visits.done_proposed", number=visit.id, folio=case.folio, when=when))
            if not visits.has_chat(uow, case):
                said.append(
                    reach_reporter(
                        uow,
                        policy,
                        case,
                        "visits.call_to_agree_terminal",
                        "visits.call_to_agree_terminal_no_number",
                        visit=visit.id,
                    )
                )
            return replies

        work_on(cli_context(ctx), config, as_, folio, action, said=said)

    def on_visit(ctx, config, as_, number, work, done_key) -> None:
        """One action on one visit, by its number."""
        from handlers.casework import visits

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        said: list[str] = []

        def run(uow, actor, now):
            visit, case = visits.find_visit(uow, app.policy, number)
            replies = work(uow, app.policy, visit, case, actor, now)
            said.append(t(done_key, number=visit.id, folio=case.folio))
            return replies

        act(state, app, as_, run)
        for line in said:
            typer.echo(line)

    @group.command("confirm", help=t("cli.visits_confirm_help"))
    def visits_confirm(
        ctx: typer.Context, number: Number, as_: As = None, config: Config = None
    ) -> None:
        from handlers.casework import visits

        on_visit(ctx, config, as_, number, visits.confirm_by_staff, "visits.done_confirmed")

    @group.command("done", help=t("cli.visits_done_help"))
    def visits_done(
        ctx: typer.Context,
        number: Number,
        notes: Annotated[str, typer.Option("--notes", help=t("cli.visits_notes_option"))],
        next_step: Annotated[str, typer.Option("--next", help=t("cli.visits_next_option"))] = "",
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import visits

        def work(uow, policy, visit, case, actor, now):
            return visits.record_done(uow, policy, visit, case, notes, next_step, actor, now)

        on_visit(ctx, config, as_, number, work, "visits.done_done")

    def ending(name: str, status: str, done_key: str) -> None:
        """`visits cancel` (the citizen is told the reason) and `visits missed`."""

        @group.command(name, help=t(f"cli.visits_{name}_help"))
        def visits_end(
            ctx: typer.Context,
            number: Number,
            reason: Reason = "",
            as_: As = None,
            config: Config = None,
        ) -> None:
            from handlers.casework import visits

            def work(uow, policy, visit, case, actor, now):
                return visits.end(uow, policy, visit, case, status, reason, actor, now)

            on_visit(ctx, config, as_, number, work, done_key)

    ending("cancel", "cancelled", "visits.done_cancelled")
    ending("missed", "missed", "visits.done_missed")

    @group.command("list", help=t("cli.visits_list_help"))
    def visits_list(
        ctx: typer.Context,
        staff: Staff = None,
        every: Annotated[bool, typer.Option("--all", help=t("cli.visits_all_option"))] = False,
        config: Config = None,
    ) -> None:
        from handlers.casework import visits

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        with app.uow() as uow:
            rows = uow.visits.listing(
                since=None if every else state.clock(),
                statuses=None if every else ("proposed", "confirmed", "reschedule_asked"),
                who=staff,
            )
            lines = visits.list_lines(app.policy, rows)
        typer.echo("\n".join(lines) if lines else t("visits.list_empty"))

    @group.command("remind", help=t("cli.visits_remind_help"))
    def visits_remind(ctx: typer.Context, config: Config = None) -> None:
        from handlers.casework.visits import due_reminders
        from handlers.dialogue.intake import queue

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        now = state.clock()
        with app.uow() as uow:
            replies = due_reminders(uow, app.policy, now)
            queue(uow, replies, now)
            uow.commit()
        typer.echo(t("cli.visits_reminded", count=len(replies)))

    @group.command("ics", help=t("cli.visits_ics_help"))
    def visits_ics(
        ctx: typer.Context,
        output: Annotated[Path, typer.Option("--output", help=t("cli.visits_output_option"))],
        staff: Staff = None,
        config: Config = None,
    ) -> None:
        from bot.visit_calendar import visits_ics as render

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        now = state.clock()
        with app.uow() as uow:
            rows = uow.visits.listing(who=staff)
            content = render(app.policy, rows, now)
        try:
            output.write_bytes(content)
        except OSError as exc:
            raise Failure(t("cli.visits_ics_failed", path=output)) from exc
        typer.echo(t("cli.visits_ics_written", count=len(rows), path=output))
