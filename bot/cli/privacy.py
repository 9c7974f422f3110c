"""The privacy commands: `privacy show|erase` (a citizen's rights, exercised by staff) and
`privacy retention` (the nightly anonymisation, now)."""

import re
from typing import Annotated

import typer

from bot.cli.context import Failure, cli_context, command_group, config_option, confirm
from bot.cli.staff import normalise_whatsapp
from handlers.core.texts import Texts


def register(cli: typer.Typer, t: Texts) -> None:
    """Add the `privacy` group to the command tree."""
    Config = config_option(t)
    group = command_group(t("cli.privacy_help"))
    cli.add_typer(group, name="privacy")
    WhatsApp = Annotated[
        str | None, typer.Option("--whatsapp", help=t("cli.privacy_whatsapp_option"))
    ]
    TelegramId = Annotated[
        int | None, typer.Option("--telegram-id", help=t("cli.privacy_telegram_option"))
    ]
    Phone = Annotated[str | None, typer.Option("--phone", help=t("cli.privacy_phone_option"))]
    Folio = Annotated[str | None, typer.Option("--folio", help=t("cli.privacy_folio_option"))]

    def address_of(
        whatsapp: str | None, telegram_id: int | None, phone: str | None = None
    ) -> tuple[str, str]:
        if telegram_id is not None:
            return "telegram", str(telegram_id)
        if phone is not None:
            # Given with `cases new --phone`: kept without spaces, dashes or brackets.
            return "telefono", re.sub(r"[\s().-]", "", phone)
        number = normalise_whatsapp(whatsapp or "")
        if number is None:
            raise Failure(t("cli.staff_bad_whatsapp", value=whatsapp))
        return "whatsapp", number

    def contact_of(uow, policy, whatsapp, telegram_id, phone, folio):
        """The person named by one address, or by a case of theirs (a walk-in who left a name
        and no number has no address to give)."""
        if [whatsapp, telegram_id, phone, folio].count(None) != 3:
            raise Failure(t("cli.privacy_one_address"))
        if folio is not None:
            from handlers.casework.cases import normalise_folio

            case = uow.cases.by_folio(normalise_folio(folio) or folio.strip().upper())
            if case is None:
                raise Failure(t("staff.error_unknown_folio", folio=folio))
            contact = uow.contacts.get(case.contact_id) if case.contact_id else None
            if case.anonymous or contact is None:
                from handlers.casework.privacy import case_figures

                figures = None if case.anonymous else case_figures(policy, case)
                if figures:
                    raise Failure(t("privacy.folio_figures", folio=case.folio, figures=figures))
                raise Failure(t("cli.privacy_folio_nobody", folio=case.folio))
            return contact
        contact = uow.contacts.find(*address_of(whatsapp, telegram_id, phone))
        if contact is None:
            raise Failure(t("cli.privacy_unknown_contact"))
        return contact

    def option_of(whatsapp, telegram_id, phone, folio) -> str:
        """How the person was named, for the erasing command shown to staff."""
        if folio is not None:
            return f"--folio {folio.strip().upper()}"
        if telegram_id is not None:
            return f"--telegram-id {telegram_id}"
        if phone is not None:
            return f"--phone {address_of(None, None, phone)[1]}"
        return f"--whatsapp {address_of(whatsapp, None)[1]}"

    @group.command("show", help=t("cli.privacy_show_help"))
    def privacy_show(
        ctx: typer.Context,
        whatsapp: WhatsApp = None,
        telegram_id: TelegramId = None,
        phone: Phone = None,
        folio: Folio = None,
        config: Config = None,
    ) -> None:
        from handlers.casework.privacy import personal_data

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        with app.uow() as uow:
            contact = contact_of(uow, app.policy, whatsapp, telegram_id, phone, folio)
            option = option_of(whatsapp, telegram_id, phone, folio)
            typer.echo(personal_data(uow, app.policy, contact, whole=True, erase_option=option))

    @group.command("erase", help=t("cli.privacy_erase_help"))
    def privacy_erase(
        ctx: typer.Context,
        whatsapp: WhatsApp = None,
        telegram_id: TelegramId = None,
        phone: Phone = None,
        folio: Folio = None,
        yes: Annotated[bool, typer.Option("--yes", help=t("cli.yes_option"))] = False,
        config: Config = None,
    ) -> None:
        from handlers.casework.privacy import erase_personal_data, erasure_summary
        from storage.engine import vacuum
        from storage.models import PERSONAL_TABLES

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        with app.uow() as uow:
            contact = contact_of(uow, app.policy, whatsapp, telegram_id, phone, folio)
            summary = erasure_summary(uow, app.policy, contact)
            if not yes and not state.interactive():
                typer.echo(summary)  # what would be erased, before the refusal
            confirm(state, summary, yes)
            uow.conversations.delete(contact.id)
            erase_personal_data(uow, app.policy, contact, state.clock())
            uow.commit()
        vacuum(app.engine, PERSONAL_TABLES)
        typer.echo(t("cli.privacy_erased"))

    @group.command("retention", help=t("cli.privacy_retention_help"))
    def privacy_retention(ctx: typer.Context, config: Config = None) -> None:
        from handlers.casework.privacy import anonymise_expired, erase_inactive_contacts
        from storage.engine import vacuum
        from storage.models import PERSONAL_TABLES

        state = cli_context(ctx)
        app = state.open_app(config, migrate=False)
        with app.uow() as uow:
            now = state.clock()
            folios = anonymise_expired(uow, app.policy, now)
            contacts = erase_inactive_contacts(uow, app.policy, now)
            uow.commit()
        vacuum(app.engine, PERSONAL_TABLES)
        days = app.policy.retention_days
        typer.echo(t("cli.privacy_retention_done", count=len(folios), days=days))
        for folio in folios:
            typer.echo(folio)
        typer.echo(t("cli.privacy_retention_contacts", count=contacts, days=days))
