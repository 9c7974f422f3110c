"""create_app(settings): the only place that reads settings and wires the parts together."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import Engine

from bot.clock import utc_now as utc_now  # where the rest of the code has found it
from bot.config import Settings
from bot.metrics import Metrics
from bot.training.loader import default_classifier
from handlers.classification.classifier import Classifier
from handlers.core.deadlines import BusinessCalendar
from handlers.core.labels import CASE_TYPES
from handlers.core.places import load_gazetteer
from handlers.core.policy import CasePolicy, Institution
from handlers.core.texts import load_texts
from handlers.dialogue.conversation import Dialogue
from storage.engine import make_engine
from storage.uow import UnitOfWork


@dataclass
class App:
    """The wired application: settings, database, policy and dialogue."""

    settings: Settings
    engine: Engine
    policy: CasePolicy
    dialogue: Dialogue
    # Its own registry per application (tests build several in one process).
    metrics: Metrics = field(default_factory=Metrics)

    def uow(self) -> UnitOfWork:
        """A fresh unit of work on the application's database."""
        return UnitOfWork(self.engine)

    def reading_uow(self) -> UnitOfWork:
        """A unit of work that only reads (reports): on SQLite it takes no write lock, so the
        service's writers do not wait for it."""
        return UnitOfWork(self.engine.execution_options(read_only=True))

    def migrate(self) -> None:
        """Apply pending migrations."""
        from storage.migrate import upgrade

        upgrade(self.engine)


def build_policy(settings: Settings, classifier: Classifier | None = None) -> CasePolicy:
    """The case policy described by the settings; the default classifier loads its model on first
    use, once per process."""
    inst = settings.institution
    return CasePolicy(
        institution=Institution(
            inst.name, inst.short_name, inst.folio_prefix, inst.emergency_numbers, inst.logo
        ),
        calendar=BusinessCalendar(inst.country, inst.timezone, settings.deadlines.extra_holidays),
        deadline_days={name: settings.deadlines.for_type(name) for name in CASE_TYPES},
        classifier=classifier or default_classifier(),
        confidence_threshold=settings.classifier.confidence_threshold,
        topics=tuple(settings.classifier.topics),
        hash_secret=settings.privacy.hash_secret,
        retention_days=settings.privacy.retention_days,
        texts=load_texts("es").for_country(inst.country),
        staff_chat_id=settings.telegram.staff_chat_id if settings.telegram.enabled else 0,
        messages_per_minute=settings.limits.messages_per_minute,
        emergency_deadline_days=settings.deadlines.emergency_business_days,
        referrals=dict(settings.referrals),
        notice_gather=timedelta(seconds=settings.limits.notice_gather_seconds),
        written_filing=settings.documents.written_filing,
        places=load_gazetteer(inst.country, inst.gazetteer or None),
    )


def create_app(settings: Settings) -> App:
    """Wire the application described by the settings (nothing is started)."""
    policy = build_policy(settings)
    engine = make_engine(settings.database.url)
    return App(settings, engine, policy, Dialogue(policy), Metrics())
