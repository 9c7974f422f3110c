"""Community updates from the terminal: `community add|list|send`."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from bot.cli.context import CliContext, Failure, cli_context, command_group, config_option, confirm
from handlers.core.texts import Texts


@contextmanager
def staff_work(ctx: typer.Context, config: str | None) -> Iterator[tuple[CliContext, Any]]:
    """The command's state and a unit of work; a request the handlers refuse (a keyword taken,
    a project that does not exist) ends the command with their Spanish message."""
    from handlers.dialogue.broadcast import CommunityError

    state = cli_context(ctx)
    app = state.open_app(config)
    with app.uow() as uow:
        try:
            yield state, uow
        except CommunityError as exc:
            raise Failure(str(exc)) from exc


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `community` group to the command tree."""
    Config = config_option(t)
    group = command_group(t("cli.community_help"))
    cli.add_typer(group, name="community")
    Keyword = Annotated[str, typer.Argument(help=t("cli.community_keyword"), show_default=False)]

    @group.command("add", help=t("cli.community_add_help"))
    def community_add(
        ctx: typer.Context,
        keyword: Keyword,
        name: Annotated[str, typer.Option("--name", help=t("cli.community_name_option"))],
        place: Annotated[str, typer.Option("--place", help=t("cli.community_place_option"))] = "",
        description: Annotated[
            str, typer.Option("--description", help=t("cli.community_description_option"))
        ] = "",
        config: Config = None,
    ) -> None:
        from handlers.dialogue.broadcast import add_project

        with staff_work(ctx, config) as (state, uow):
            now = state.clock()
            project = add_project(
                uow, t, keyword=keyword, name=name, place=place, description=description, now=now
            )
            uow.commit()
        typer.echo(t("cli.community_added", name=project.name, keyword=project.keyword.upper()))

    @group.command("list", help=t("cli.community_list_help"))
    def community_list(ctx: typer.Context, config: Config = None) -> None:
        from handlers.dialogue.broadcast import project_views

        state = cli_context(ctx)
        app = state.open_app(config)
        settings = app.settings
        with app.uow() as uow:
            views = project_views(
                uow,
                telegram_bot=settings.telegram.bot_username,
                whatsapp_number=settings.whatsapp.from_number,
            )
        if not views:
            typer.echo(t("cli.community_none"))
        for view in views:
            project, counts = view.project, view.counts
            typer.echo(t("cli.community_line", keyword=project.keyword.upper(), name=project.name))
            if project.place:
                typer.echo(t("cli.community_place", place=project.place))
            typer.echo(
                t(
                    "cli.community_counts",
                    subscribers=counts.subscribers,
                    updates=counts.updates,
                    unheard=t.plural("cli.community_unheard", counts.unheard)
                    if counts.unheard
                    else "",
                    sent=counts.sent,
                    waiting=counts.waiting,
                    unreachable=counts.unreachable,
                )
            )
            for link in (view.telegram_link, view.whatsapp_link):
                if link:
                    typer.echo(f"  {link}")
        # Links need the bot's name or our number: say which setting is missing.
        missing = [
            name
            for name, value in (
                ("telegram.bot_username", settings.telegram.bot_username),
                ("whatsapp.from_number", settings.whatsapp.from_number),
            )
            if not value
        ]
        if views and missing:
            typer.echo(t("cli.community_no_links", settings=" o ".join(missing)))

    @group.command("send", help=t("cli.community_send_help"))
    def community_send(
        ctx: typer.Context,
        keyword: Keyword,
        text: Annotated[str, typer.Argument(help=t("cli.community_text"), show_default=False)],
        yes: Annotated[bool, typer.Option("--yes", help=t("cli.yes_option"))] = False,
        config: Config = None,
    ) -> None:
        from handlers.dialogue.broadcast import send_update

        with staff_work(ctx, config) as (state, uow):
            sent = send_update(uow, t, keyword, text, state.clock())
            # Asked once queued in this transaction, which is not committed if the answer is no.
            question = plural_or_none(
                t, "cli.community_send_confirm", sent.recipients, name=sent.project.name
            )
            confirm(state, question, yes, refused="cli.community_send_")
            uow.commit()
        typer.echo(plural_or_none(t, "cli.community_sent", sent.recipients, name=sent.project.name))


def plural_or_none(t: Texts, key: str, count: int, **values: Any) -> str:
    """`{key}_none` for nobody ("nadie sigue el proyecto"), else the sentence agreeing with the
    count."""
    return t(f"{key}_none", **values) if count == 0 else t.plural(key, count, **values)
