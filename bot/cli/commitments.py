"""Commitments from the terminal: `commitments add|list|met|move|remind`, through the casework
functions the chat uses."""

from typing import Annotated

import typer

from bot.cli.cases import act
from bot.cli.context import Failure, cli_context, command_group, config_option
from handlers.core.texts import Texts


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `commitments` group to the command tree."""
    Config = config_option(t)
    group = command_group(t("cli.commitments_help"))
    cli.add_typer(group, name="commitments")
    As = Annotated[str | None, typer.Option("--as", help=t("cli.as_option"))]
    Number = Annotated[str, typer.Argument(help=t("cli.commitments_number"), show_default=False)]
    Day = Annotated[str, typer.Argument(help=t("cli.commitments_day"), show_default=False)]

    @group.command("add", help=t("cli.commitments_add_help"))
    def commitments_add(
        ctx: typer.Context,
        folio: str,
        day: Day,
        what: Annotated[str, typer.Argument(help=t("cli.commitments_what"), show_default=False)],
        responsible: Annotated[
            str | None, typer.Option("--responsible", help=t("cli.commitments_responsible"))
        ] = None,
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import actions as casework
        from handlers.casework import commitments

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        said: list[str] = []

        def work(uow, actor, now):
            policy = app.policy
            case = casework.find_case(uow, policy, folio)
            due = commitments.parse_due(t, day, commitments.today(policy, now))
            member, name = (
                commitments.find_responsible(uow, policy, responsible)
                if responsible
                else (None, None)
            )
            made, replies = commitments.make(
                uow,
                policy,
                case,
                what=what,
                due=due,
                actor=actor,
                now=now,
                responsible=member,
                responsible_name=name,
            )
            said.append(commitments.made_text(uow, policy, made, case, replies))
            return replies

        act(state, app, as_, work)
        typer.echo("\n".join(said))

    @group.command("list", help=t("cli.commitments_list_help"))
    def commitments_list(
        ctx: typer.Context,
        folio: Annotated[str | None, typer.Argument(show_default=False)] = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import actions as casework
        from handlers.casework import commitments
        from handlers.casework.lifecycle import NotAllowed

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        with app.uow() as uow:
            try:
                case = casework.find_case(uow, app.policy, folio) if folio else None
            except NotAllowed as exc:
                raise Failure(str(exc)) from exc
            lines = commitments.listing(uow, app.policy, state.clock(), case)
        if not lines:
            empty = "commitments.none_case" if case else "commitments.none_all"
            typer.echo(t(empty, folio=folio or ""))
            return
        heading = t("commitments.header_case", folio=case.folio) if case else None
        typer.echo("\n".join([heading or t("commitments.header_all"), *lines]))

    @group.command("met", help=t("cli.commitments_met_help"))
    def commitments_met(
        ctx: typer.Context,
        number: Number,
        note: Annotated[str, typer.Option("--note", help=t("cli.commitments_note"))] = "",
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import commitments

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        said: list[str] = []

        def work(uow, actor, now):
            commitment, case = commitments.find(uow, app.policy, number)
            replies = commitments.meet(uow, app.policy, commitment, case, note, actor, now)
            said.append(commitments.met_text(app.policy, commitment, case, replies))
            return replies

        act(state, app, as_, work)
        typer.echo("\n".join(said))

    @group.command("move", help=t("cli.commitments_move_help"))
    def commitments_move(
        ctx: typer.Context,
        number: Number,
        day: Day,
        reason: Annotated[
            str, typer.Argument(help=t("cli.commitments_reason"), show_default=False)
        ],
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import commitments

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        said: list[str] = []

        def work(uow, actor, now):
            commitment, case = commitments.find(uow, app.policy, number)
            due = commitments.parse_due(t, day, commitments.today(app.policy, now))
            replies = commitments.move(uow, app.policy, commitment, case, due, reason, actor, now)
            said.append(commitments.moved_text(app.policy, commitment, case, replies))
            return replies

        act(state, app, as_, work)
        typer.echo("\n".join(said))

    @group.command("remind", help=t("cli.commitments_remind_help"))
    def commitments_remind(ctx: typer.Context, config: Config = None) -> None:
        from handlers.casework.commitments import overdue_reminders

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        count = 0

        def work(uow, actor, now):
            nonlocal count
            replies = overdue_reminders(uow, app.policy, now)
            count = len(replies)
            return replies

        act(state, app, None, work)
        typer.echo(t("cli.commitments_reminded", count=count))
