"""Learning from staff and citizens: the labels they confirm are stored as examples, erased with
the person's data, never kept for anonymous cases; a retrained model replaces the running one
only when it is not worse on the fixed evaluation set."""

import random
from datetime import UTC, datetime

import pytest

from bot.training.cache import compact_path, current_path, load_compact, save_compact
from bot.training.model import compact, train
from bot.training.retrain import retrain
from handlers.casework.examples import stored_examples
from handlers.casework.reclassify import reclassify
from handlers.classification.corpus import Example, load_calibration, load_corpus
from storage.models import LabelledExample
from tests.helpers import POTHOLE, Citizen

NOW = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def reported_case(app, address: str = "7001", answers=POTHOLE):
    citizen = Citizen(app.dialogue, app.uow, address=address)
    citizen.converse(*answers)
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("console", address, citizen.clock.now)
        return uow.cases.for_contact(contact.id)[-1]


def staff_relabels(app, case, labels=("queja", "puentes", "normal"), *, anonymous=False):
    with app.uow() as uow:
        case = uow.cases.by_folio(case.folio)
        if anonymous:
            case.anonymous = True
        reclassify(
            uow,
            app.policy,
            case,
            type=labels[0],
            topic=labels[1],
            urgency=labels[2],
            actor="Ana",
            now=NOW,
        )
        uow.commit()


def stored(app) -> list[LabelledExample]:
    with app.uow() as uow:
        return list(uow.examples.all())


def test_a_staff_reclassification_is_stored_as_one_labelled_example_per_case(app):
    case = reported_case(app)
    staff_relabels(app, case, ("queja", "otro", "normal"))
    staff_relabels(app, case, ("reclamo", "puentes", "urgente"))
    (example,) = stored(app)
    assert (example.case_id, example.contact_id, example.source) == (
        case.id,
        case.contact_id,
        "personal",
    )
    assert (example.text, example.type, example.topic, example.urgency) == (
        POTHOLE[3],
        "reclamo",
        "puentes",
        "urgente",
    )
    with app.uow() as uow:
        assert stored_examples(uow, app.policy) == [
            Example(POTHOLE[3], "reclamo", "puentes", "urgente")
        ]


def test_a_citizen_who_changes_the_proposed_labels_teaches_the_model_too(app):
    answers = (*POTHOLE[:5], "2", "3", "2", *POTHOLE[6:])
    case = reported_case(app, answers=answers)
    (example,) = stored(app)
    assert (case.type, case.topic) == ("queja", "puentes")
    assert (example.source, example.type, example.topic, example.case_id) == (
        "ciudadano",
        "queja",
        "puentes",
        case.id,
    )


def test_a_citizen_who_confirms_the_proposed_labels_adds_no_example(app):
    reported_case(app)
    assert stored(app) == []


def test_nothing_is_learned_from_an_anonymous_case(app):
    case = reported_case(app)
    staff_relabels(app, case, anonymous=True)
    assert stored(app) == []


def test_the_examples_are_erased_with_the_persons_data(app):
    kept, erased = reported_case(app, "7001"), reported_case(app, "7002")
    staff_relabels(app, kept)
    staff_relabels(app, erased)
    assert len(stored(app)) == 2
    Citizen(app.dialogue, app.uow, address="7002").converse("borrar mis datos", "si")
    assert [example.case_id for example in stored(app)] == [kept.id]


def test_the_examples_are_erased_when_the_retention_run_anonymises_their_case(app):
    from handlers.casework.privacy import forget_cases

    case = reported_case(app)
    staff_relabels(app, case)
    with app.uow() as uow:
        forget_cases(uow, [uow.cases.by_folio(case.folio)], None, "[vencido]")
        uow.commit()
    assert stored(app) == []


# -- retraining ------------------------------------------------------------------------------

SAMPLE = load_corpus()[::6]  # a small model: the test is about the decision, not the figures
EVALUATION = load_calibration()[:120]


def small_model(examples):
    return compact(train(examples, calibrate=False))


def scrambled(examples):
    """The same texts with their labels shuffled: a model that learned nothing."""
    shuffle = random.Random(3)
    labels = [(e.type, e.topic, e.urgency) for e in examples]
    shuffle.shuffle(labels)
    return [Example(e.text, *label) for e, label in zip(examples, labels, strict=True)]


def test_a_worse_candidate_never_replaces_the_running_model(tmp_path):
    save_compact(small_model(SAMPLE), compact_path(tmp_path))
    outcome = retrain(
        [],
        EVALUATION,
        now=NOW,
        directory=tmp_path,
        build=lambda corrections, now: small_model(scrambled(SAMPLE)),
    )
    assert not outcome.replaced
    assert outcome.candidate_score < outcome.current_score
    assert load_compact(current_path(tmp_path)) is None


def test_a_candidate_at_least_as_good_replaces_the_running_model(tmp_path):
    save_compact(small_model(scrambled(SAMPLE)), compact_path(tmp_path))
    outcome = retrain(
        [Example("el puente colgante se mueve mucho", "queja", "puentes", "normal")],
        EVALUATION,
        now=NOW,
        directory=tmp_path,
        build=lambda corrections, now: small_model([*SAMPLE, *corrections]),
    )
    assert outcome.replaced and outcome.candidate_score >= outcome.current_score
    running = load_compact(current_path(tmp_path))
    assert running is not None and running.meta["evaluation_score"] == outcome.candidate_score
    # The next retraining compares with the model now running, not the corpus's.
    again = retrain(
        [],
        EVALUATION,
        now=NOW,
        directory=tmp_path,
        build=lambda corrections, now: small_model(scrambled(SAMPLE)),
    )
    assert not again.replaced and again.current_score == outcome.candidate_score


def test_the_retraining_is_weekly_by_default_and_can_be_turned_off(app):
    from bot.scheduler import Scheduler
    from tests.helpers import make_settings

    trigger = Scheduler(app, lambda: NOW, lambda: None).retrain_trigger()
    assert "day_of_week='sun'" in str(trigger) and "hour='3'" in str(trigger)
    assert make_settings(classifier={"retrain": "off"}).classifier.retrain == "off"
    assert make_settings(classifier={"retrain": "Mon 02:00"}).classifier.retrain == "mon 02:00"
    with pytest.raises(ValueError):
        make_settings(classifier={"retrain": "cada semana"})
