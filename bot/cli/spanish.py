"""The command line's own words in Spanish: help pages and usage errors.

Typer (and the Click it carries) writes "Usage:", "Options", "Show this message and exit." and
its errors in English. Instead of patching them, the commands are built from these subclasses
(`cls=`), which write the help from the catalogue, and the root group runs the commands with
`standalone_mode=False`, so that a usage error comes back here to be said in Spanish."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

from handlers.core.texts import Texts, load_texts

# Usage errors exit with 2, as Click's do; the ones a command raises itself (Failure) with 1.
USAGE_ERROR = 2


def catalogue(ctx: typer.Context | None) -> Texts:
    """The texts of the running command (tests give their own), else the Spanish catalogue."""
    texts = getattr(ctx.obj, "texts", None) if ctx is not None else None
    return texts if isinstance(texts, Texts) else load_texts("es")


def value_name(t: Texts, param: Any, ctx: typer.Context | None) -> str:
    """What a value is called in help and errors: FOLIO, ESTADO, ARCHIVO... by the parameter's
    name, else by its kind (TEXTO, NÚMERO, RUTA)."""
    if param.metavar:
        return str(param.metavar)
    name = (param.name or "").rstrip("_")
    if t.has(f"cli.value.{name}"):
        return t(f"cli.value.{name}")
    kind = param.display_type(ctx).strip("<>").removeprefix("list[").removesuffix("]")
    return t(f"cli.value.kind_{kind}") if t.has(f"cli.value.kind_{kind}") else kind.upper()


def param_name(t: Texts, param: Any, ctx: typer.Context | None) -> str:
    """How an error names a parameter: the option as typed (--role), or the argument's value
    name (FOLIO)."""
    if param.param_type_name == "option":
        return max(param.opts, key=len)
    return value_name(t, param, ctx)


def help_record(t: Texts, param: Any, ctx: typer.Context) -> tuple[str, str] | None:
    """One line of the Arguments or Options list: the name with its value, and the help with
    its default and whether it is required."""
    if param.hidden:
        return None
    extra = []
    if param.param_type_name == "option":
        name = ", ".join(param.opts)
        if not param.is_flag:
            name += f" {value_name(t, param, ctx)}"
        default = param.default
        if param.show_default and not param.is_flag and default not in (None, "", (), []):
            extra.append(t("cli.usage.default", value=default))
    else:
        name = value_name(t, param, ctx)
    if param.required:
        extra.append(t("cli.usage.required"))
    help = param.help or ""
    if extra:
        help = f"{help}  [{'; '.join(extra)}]" if help else f"[{'; '.join(extra)}]"
    return name, help


class SpanishHelp:
    """The help page and usage line of a command or group, in the catalogue's words."""

    options_metavar: str | None
    get_params: Any
    get_help_option: Any

    def _spanish(self) -> None:
        self.rich_markup_mode = None  # plain text: rich's boxes would title them in English
        self.options_metavar = load_texts("es")("cli.usage.options_metavar")

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        t = catalogue(ctx)
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                shown = value_name(t, param, ctx)
                pieces.append(shown if param.required else f"[{shown}]")
        return pieces

    def format_usage(self, ctx: typer.Context, formatter: Any) -> None:
        t = catalogue(ctx)
        pieces = " ".join(self.collect_usage_pieces(ctx))
        formatter.write_usage(ctx.command_path, pieces, prefix=t("cli.usage.prefix"))

    def get_help_option(self, ctx: typer.Context) -> Any:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = catalogue(ctx)("cli.usage.help_option")
        return option

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        t = catalogue(ctx)
        records: dict[str, list[tuple[str, str]]] = {"argument": [], "option": []}
        for param in self.get_params(ctx):
            record = help_record(t, param, ctx)
            if record is not None and param.param_type_name in records:
                records[param.param_type_name].append(record)
        for kind, title in (("argument", "cli.usage.arguments"), ("option", "cli.usage.options")):
            if records[kind]:
                with formatter.section(t(title)):
                    formatter.write_dl(records[kind])


class SpanishCommand(SpanishHelp, TyperCommand):
    """A command whose help page and usage line are in Spanish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._spanish()


class SpanishGroup(SpanishHelp, TyperGroup):
    """A group of commands (the root, `cases`, `staff`...) with its help page in Spanish."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._spanish()
        self.subcommand_metavar = load_texts("es")("cli.usage.command_metavar")

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), self.subcommand_metavar]

    def format_options(self, ctx: typer.Context, formatter: Any) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: typer.Context, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section(catalogue(ctx)("cli.usage.commands")):
                formatter.write_dl(rows)

    def resolve_command(self, ctx: typer.Context, args: list[str]) -> Any:
        name = args[0] if args else ""
        if args and self.get_command(ctx, name) is None and not name.startswith("-"):
            t = catalogue(ctx)
            fail(ctx, t("cli.usage.no_such_command", name=name, valid=", ".join(self.commands)))
        return super().resolve_command(ctx, args)


def fail(ctx: typer.Context, message: str) -> None:
    """A usage error whose message is already the catalogue's."""
    try:
        ctx.fail(message)
    except typer.TyperException as exc:
        exc.in_spanish = True  # type: ignore[attr-defined]
        raise


class RootGroup(SpanishGroup):
    """The `telefono-abierto` command: usage errors are said in Spanish, with the usage line."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except typer.TyperException as exc:
            if not standalone_mode:
                raise
            context = getattr(exc, "ctx", None)
            show_error(catalogue(context) if context else load_texts("es"), exc)
            sys.exit(exc.exit_code)
        except typer.Abort:
            if not standalone_mode:
                raise
            typer.echo(load_texts("es")("cli.usage.aborted"), err=True)
            sys.exit(1)
        if not standalone_mode:
            return result
        # Without standalone mode a command's end (or `--help`) comes back as its exit code.
        sys.exit(result if isinstance(result, int) else 0)


def show_error(t: Texts, exc: typer.TyperException) -> None:
    """A usage error as Click would show it, in Spanish: the usage line, where the help is, and
    what was wrong."""
    ctx = getattr(exc, "ctx", None)
    if exc.exit_code == USAGE_ERROR and ctx is not None and exc.message == ctx.get_help():
        typer.echo(exc.message, err=True)  # no arguments at all: the help page
        return
    if ctx is not None:
        typer.echo(ctx.get_usage(), err=True)
        help_names = ctx.help_option_names
        if help_names and ctx.command.get_help_option(ctx) is not None:
            see = f"{ctx.command_path} {help_names[0]}"
            typer.echo(t("cli.usage.see_help", command=see), err=True)
        typer.echo("", err=True)
    typer.echo(t("cli.usage.error", message=error_message(t, exc)), err=True)


def error_message(t: Texts, exc: typer.TyperException) -> str:
    """What was wrong, in Spanish, from what the error carries (its parameter, its option),
    not from its English words; anything else is said as "not understood"."""
    ctx = getattr(exc, "ctx", None)
    param = getattr(exc, "param", None)
    if isinstance(exc, typer.BadParameter) and param is not None:
        name = param_name(t, param, ctx)
        if hasattr(exc, "param_type"):  # MissingParameter
            kind = "option" if param.param_type_name == "option" else "argument"
            return t(f"cli.usage.missing_{kind}", name=name)
        kind = param.display_type(ctx).strip("<>")
        key = f"cli.usage.bad_value_{kind}"
        return t(key if t.has(key) else "cli.usage.bad_value", name=name)
    option = getattr(exc, "option_name", None)
    if option is not None and hasattr(exc, "possibilities"):  # NoSuchOption
        possibilities = sorted(exc.possibilities or ())
        if possibilities:
            return t("cli.usage.no_such_option_like", name=option, like=", ".join(possibilities))
        return t("cli.usage.no_such_option", name=option)
    if option is not None:  # BadOptionUsage
        key = "does_not_take" if "does not take" in exc.message else "needs_value"
        return t(f"cli.usage.option_{key}", name=option)
    if getattr(exc, "in_spanish", False):
        return exc.message
    # The two usage errors Click raises with a bare message, recognised by it.
    extra = re.fullmatch(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", exc.message, re.S)
    if extra:
        # A command that takes its input elsewhere (classify: standard input) says so.
        command = "_".join(ctx.command_path.split()[1:]) if ctx is not None else ""
        key = f"cli.usage.extra_arguments_for.{command}"
        if t.has(key):
            # The words given, as a JSON string's inside: the example stays valid JSON.
            return t(key, text=json.dumps(extra[1], ensure_ascii=False)[1:-1])
        return t("cli.usage.extra_arguments", values=extra[1])
    if exc.message == "Missing command.":
        return t("cli.usage.missing_command")
    return t("cli.usage.not_understood")


class SpanishTyper(typer.Typer):
    """A Typer whose groups and commands are the Spanish ones above."""

    def __init__(self, *, cls: type[TyperGroup] = SpanishGroup, **kwargs: Any) -> None:
        super().__init__(cls=cls, **kwargs)

    def command(self, *args: Any, cls: type[TyperCommand] | None = None, **kwargs: Any) -> Any:
        return super().command(*args, cls=cls or SpanishCommand, **kwargs)
