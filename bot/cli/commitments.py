"""Commitments from the terminal: `commitments add|list|met|move|remind`, through the casework
functions the chat uses."""

from collections.abc import Callable
from typing import Annotated, Any

import typer

from bot.cli.cases import act
from bot.cli.context import Failure, cli_context, command_group, config_option
from handlers.core.texts import Texts

# What one command does in its transaction: (uow, policy, actor, now) -> (what it prints, the
# citizen's replies).
Work = Callable[[Any, Any, Any, Any], tuple[str, list]]


def run(ctx: typer.Context, config: str | None, who: str | None, work: Work) -> None:
    """One staff action from the terminal, as the chat's staff desk does it; its replies go to
    the outbox and what it says is printed."""
    state = cli_context(ctx)
    app = state.open_app(config, migrate=False)
    said: list[str] = []

    def action(uow, actor, now):
        text, replies = work(uow, app.policy, actor, now)
        said.append(text)
        return replies

    act(state, app, who, action)
    typer.echo("\n".join(said))


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `commitments` group to the command tree."""
    Config = config_option(t)
    group = command_group(t("cli.commitments_help"))
    cli.add_typer(group, name="commitments")
    As = Annotated[str | None, typer.Option("--as", help=t("cli.as_option"))]
    Number = Annotated[
        str, typer.Argument(help=t("cli.commitments_number"), metavar="N", show_default=False)
    ]
    Day = Annotated[
        str, typer.Argument(help=t("cli.commitments_day"), metavar="FECHA", show_default=False)
    ]

    @group.command("add", help=t("cli.commitments_add_help"))
    def commitments_add(
        ctx: typer.Context,
        folio: str,
        day: Day,
        what: Annotated[
            str, typer.Argument(help=t("cli.commitments_what"), metavar="QUÉ", show_default=False)
        ],
        responsible: Annotated[
            str | None, typer.Option("--responsible", help=t("cli.commitments_responsible"))
        ] = None,
        visit: Annotated[
            int | None, typer.Option("--visit", help=t("cli.commitments_visit"), show_default=False)
        ] = None,
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import actions as casework
        from handlers.casework import commitments, visits

        def work(uow, policy, actor, now):
            case = casework.find_case(uow, policy, folio)
            on_visit = visits.find_visit(uow, policy, visit)[0] if visit is not None else None
            made, replies = commitments.make_as_written(
                uow,
                policy,
                case,
                day=day,
                what=what,
                who=responsible,
                actor=actor,
                now=now,
                visit=on_visit,
            )
            return commitments.made_text(uow, policy, made, case, replies), replies

        run(ctx, config, as_, work)

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

    Reason = Annotated[
        str,
        typer.Argument(help=t("cli.commitments_reason"), metavar="MOTIVO", show_default=False),
    ]

    def change(ctx, config, as_, number, act, text_of) -> None:
        """One change to commitment `number`: act(uow, policy, commitment, case, actor, now)
        returns the replies; text_of(policy, commitment, case, replies) what staff read."""
        from handlers.casework import commitments

        def work(uow, policy, actor, now):
            commitment, case = commitments.find(uow, policy, number)
            replies = act(uow, policy, commitment, case, actor, now)
            return text_of(policy, commitment, case, replies), replies

        run(ctx, config, as_, work)

    @group.command("met", help=t("cli.commitments_met_help"))
    def commitments_met(
        ctx: typer.Context,
        number: Number,
        written: Annotated[
            str, typer.Argument(help=t("cli.commitments_note"), metavar="NOTA", show_default=False)
        ] = "",
        note: Annotated[str, typer.Option("--note", help=t("cli.commitments_note"))] = "",
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import commitments

        said = " ".join(part for part in (written, note) if part.strip())

        def act(uow, policy, commitment, case, actor, now):
            return commitments.meet(uow, policy, commitment, case, said, actor, now)

        change(ctx, config, as_, number, act, commitments.met_text)

    @group.command("move", help=t("cli.commitments_move_help"))
    def commitments_move(
        ctx: typer.Context,
        number: Number,
        day: Day,
        reason: Reason,
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import commitments

        def act(uow, policy, commitment, case, actor, now):
            return commitments.move(uow, policy, commitment, case, day, reason, actor, now)

        change(ctx, config, as_, number, act, commitments.moved_text)

    @group.command("cancel", help=t("cli.commitments_cancel_help"))
    def commitments_cancel(
        ctx: typer.Context,
        number: Number,
        reason: Reason,
        as_: As = None,
        config: Config = None,
    ) -> None:
        from handlers.casework import commitments

        def act(uow, policy, commitment, case, actor, now):
            return commitments.cancel(uow, policy, commitment, case, reason, actor, now)

        change(ctx, config, as_, number, act, commitments.cancelled_text)

    @group.command("remind", help=t("cli.commitments_remind_help"))
    def commitments_remind(ctx: typer.Context, config: Config = None) -> None:
        from handlers.casework.commitments import overdue_reminders

        def work(uow, policy, actor, now):
            replies = overdue_reminders(uow, policy, now)
            return t("cli.commitments_reminded", count=len(replies)), replies

        run(ctx, config, None, work)
