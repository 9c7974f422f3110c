"""The classification commands of spec section 5: `classify`, `classifier train|evaluate`."""

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.context import cli_context, command_group, config_option
from handlers.core.texts import Texts


def fail(message: str) -> typer.Exit:
    """Say why in one line on stderr; the caller raises what this returns (exit status 1)."""
    typer.echo(message, err=True)
    return typer.Exit(1)


def register(cli: typer.Typer, t: Texts) -> None:
    """Add `classify` and the `classifier` group to the command tree. Training and evaluation
    import scikit-learn when they run, so that the other commands start without it."""
    Config = config_option(t)
    group = command_group(t("cli.classifier_help"))
    cli.add_typer(group, name="classifier")

    @cli.command(help=t("cli.classify_help"))
    def classify(ctx: typer.Context, config: Config = None) -> None:
        from bot.app import create_app
        from handlers.classification.assessment import assess

        settings_for = cli_context(ctx).settings
        app = create_app(settings_for(config))
        classifier, policy = app.policy.classifier, app.policy
        sys.stdin.reconfigure(errors="replace")
        bad = 0
        for number, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                typer.echo(t("cli.classify_bad_json", number=number), err=True)
                bad += 1
                continue
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                typer.echo(t("cli.classify_no_text", number=number), err=True)
                bad += 1
                continue
            assessed = assess(record["text"], classifier.classify(record["text"]))
            result = assessed.classification
            answer = {
                "text": record["text"],
                "type": result.type,
                "topic": policy.known_topic(result.topic),
                "urgency": result.urgency,
                "confidence": round(result.confidence, 3),
                "danger_check": assessed.danger_check,
                "in_scope": assessed.in_scope,
            }
            typer.echo(json.dumps(answer, ensure_ascii=False))
        if bad:
            raise typer.Exit(1)

    @group.command("train", help=t("cli.classifier_train_help"))
    def train(
        ctx: typer.Context,
        from_db: Annotated[
            bool, typer.Option("--from-db", help=t("cli.classifier_from_db_option"))
        ] = False,
        config: Config = None,
    ) -> None:
        from bot.training.cache import model_path
        from bot.training.model import save_model, train_default
        from handlers.casework.reclassify import staff_examples

        settings_for, open_app = cli_context(ctx).settings, cli_context(ctx).open_app
        corrections = []
        if from_db:
            app = open_app(config, migrate=False)
            with app.uow() as uow:
                corrections = staff_examples(uow, app.policy)
        else:
            settings_for(config)  # a wrong setting is reported here as everywhere
        started = time.perf_counter()
        model = train_default(corrections)
        path = model_path()
        try:
            save_model(model, path)
        except OSError as exc:
            raise fail(t("cli.classifier_not_saved", path=path, reason=exc.strerror)) from exc
        seconds = f"{time.perf_counter() - started:.1f}"
        typer.echo(
            t(
                "cli.classifier_trained",
                examples=model.meta["examples"],
                staff=model.meta["staff_examples"],
                seconds=seconds,
                path=path,
            )
        )

    @group.command("evaluate", help=t("cli.classifier_evaluate_help"))
    def evaluate(
        ctx: typer.Context,
        holdout: Annotated[
            Path | None, typer.Option("--holdout", help=t("cli.classifier_holdout_option"))
        ] = None,
        folds: Annotated[int, typer.Option(help=t("cli.classifier_folds_option"))] = 5,
        evaluation_set: Annotated[
            Path | None, typer.Option("--set", help=t("cli.classifier_set_option"))
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help=t("cli.classifier_json_option"))] = (
            False
        ),
        config: Config = None,
    ) -> None:
        from bot.training.evaluation import (
            assess,
            cross_validate,
            held_out,
            render,
            render_assessment,
        )
        from bot.training.loader import load_default
        from bot.training.model import train_default
        from bot.training.retrain import evaluation_set_path
        from handlers.classification.compact import ModelClassifier
        from handlers.classification.corpus import load_corpus

        settings = cli_context(ctx).settings(config)
        threshold = settings.classifier.confidence_threshold
        if folds != 0 and not 2 <= folds <= 20:
            raise fail(t("cli.classifier_bad_folds"))
        unseen = read_holdout(t, holdout) if holdout else None
        path = evaluation_set or evaluation_set_path(settings.classifier.evaluation_set)
        rows = read_set(t, path, required=evaluation_set is not None)
        if rows is not None:
            assessment = assess(load_default(), rows, danger_check=danger_check())
            if as_json:
                typer.echo(json.dumps(assessment, ensure_ascii=False, indent=2))
                return
            typer.echo(render_assessment(assessment, str(path), t))
        elif as_json:
            raise fail(t("evaluation.no_set", path=path))
        else:
            typer.echo(t("evaluation.no_set", path=path))
        if folds:
            name = t("evaluation.cross_validation", folds=folds)
            typer.echo("")
            typer.echo(render(cross_validate(load_corpus(), name, folds=folds), threshold, t))
        if unseen is not None:
            classifier = ModelClassifier(train_default())
            report = held_out(classifier, unseen, t("evaluation.holdout", path=holdout))
            typer.echo("")
            typer.echo(render(report, threshold, t))

    @group.command("retrain", help=t("cli.classifier_retrain_help"))
    def retrain_command(
        ctx: typer.Context,
        evaluation_set: Annotated[
            Path | None, typer.Option("--set", help=t("cli.classifier_set_option"))
        ] = None,
        config: Config = None,
    ) -> None:
        from bot.training.retrain import evaluation_set_path, retrain
        from handlers.casework.reclassify import staff_examples

        open_app = cli_context(ctx).open_app
        app = open_app(config, migrate=False)
        path = evaluation_set or evaluation_set_path(app.settings.classifier.evaluation_set)
        rows = read_set(t, path, required=True)
        with app.uow() as uow:
            corrections = staff_examples(uow, app.policy)
        outcome = retrain(corrections, rows or [])
        key = "cli.classifier_replaced" if outcome.replaced else "cli.classifier_kept"
        typer.echo(
            t(
                key,
                candidate=f"{outcome.candidate_score:.3f}",
                current=f"{outcome.current_score:.3f}",
                staff=outcome.staff_examples,
                path=path,
            )
        )


def danger_check():
    """The dialogue's danger check: an emergency it would ask about counts as caught."""
    from handlers.classification.danger import needs_danger_check

    return needs_danger_check


def read_set(t: Texts, path: Path, *, required: bool) -> list | None:
    """The fixed evaluation set; None when it is missing and not required."""
    from handlers.classification.corpus import BadExample, read_labelled

    if not path.exists() and not required:
        return None
    try:
        return read_labelled(path)
    except BadExample as exc:
        raise fail(t("cli.classifier_bad_file", reason=exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise fail(t("cli.classifier_no_file", path=path, reason=reason)) from exc


def read_holdout(t: Texts, path: Path) -> list:
    """The examples of a JSON Lines file, or one line saying why they cannot be read."""
    from handlers.classification.corpus import BadExample, read_examples

    try:
        return read_examples(path)
    except BadExample as exc:
        raise fail(t("cli.classifier_bad_file", reason=exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise fail(t("cli.classifier_no_file", path=path, reason=reason)) from exc
