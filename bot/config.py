"""Settings: config.toml plus TA_ environment overrides, validated once at start-up."""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from holidays.registry import EntityLoader
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from handlers.core.labels import CASE_TYPES, DEFAULT_TOPICS
from handlers.core.places import GazetteerError, load_gazetteer
from handlers.core.texts import load_texts

DEFAULT_CONFIG_PATH = Path("config.toml")
_S = TypeVar("_S", bound="BaseSettings")


class ConfigError(Exception):
    """A setting is wrong; the message is one line, naming the key, for the administrator."""


class Section(BaseModel):
    """A table of config.toml: unknown keys are refused so that typos do not pass silently."""

    model_config = ConfigDict(extra="forbid")


class InstitutionSettings(Section):
    name: str = "Ministerio de Obras Públicas"
    short_name: str = "MOPT"
    country: str = "SV"
    timezone: str = "America/El_Salvador"
    folio_prefix: str = "TA"
    emergency_numbers: str = "911"
    # A CSV of the institution's administrative units, replacing the one shipped for `country`
    # (docs/places.md); empty: the shipped one (El Salvador, Colombia/Bogotá).
    gazetteer: str = ""
    # A PNG or JPEG printed at the top of the case's documents (constancia, solicitud); empty:
    # the institution's name alone.
    logo: str = ""

    @field_validator("logo")
    @classmethod
    def _readable_logo(cls, value: str) -> str:
        if not value:
            return value
        path = Path(value).expanduser().absolute()
        try:
            head = path.read_bytes()[:8]
        except OSError as exc:
            raise ValueError(_t("config.bad_logo", path=value)) from exc
        if not (head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff")):
            raise ValueError(_t("config.bad_logo", path=value))
        return str(path)

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        code = value.strip().upper()
        # The registry's codes (aliases included), without loading every country's module as
        # holidays.list_supported_countries() does.
        if code not in EntityLoader.get_country_codes():
            raise ValueError(_t("config.unknown_country", value=repr(value)))
        return code

    @field_validator("gazetteer")
    @classmethod
    def _readable_gazetteer(cls, value: str) -> str:
        if value:
            try:
                load_gazetteer("", value)
            except (OSError, UnicodeError, GazetteerError) as exc:
                raise ValueError(_t("config.bad_gazetteer", path=value, reason=exc)) from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(_t("config.unknown_timezone", value=repr(value))) from exc
        return value

    @field_validator("folio_prefix")
    @classmethod
    def _simple_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{1,6}", value):
            raise ValueError(_t("config.bad_prefix"))
        return value


class DatabaseSettings(Section):
    url: str = "sqlite:///./data/telefono_abierto.db"

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            url = make_url(value)
            # A host's name has no '@': one there is an unencoded '@' of the password, whose
            # rest would be taken for the host (and printed in the driver's errors).
            if "@" in (url.host or ""):
                raise ValueError("'@' in the password")
        except (ArgumentError, ValueError):
            # Only the scheme is shown: the rest may hold the password.
            scheme = re.match(r"[A-Za-z][A-Za-z0-9+.]*://", value)
            shown = f"{scheme[0]}…" if scheme else "…"
            raise ValueError(_t("config.bad_database_url", value=shown)) from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(_t("config.unsupported_database"))
        return value


class ServerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = ""
    # Webhook requests at work at once (0: four times the database pool's size); more wait
    # briefly in a bounded line, and beyond it get 503 at once.
    max_inflight: int = Field(0, ge=0, le=10_000)
    # The longest a webhook's body may take to arrive, read before the request takes one of
    # those places; a slower one gets 408 and its connection is closed. A request's headers
    # have as long (bot/http_protocol.py).
    body_timeout_seconds: float = Field(10, gt=0, le=300)
    # How long a claimed outbox row is reserved for the process sending it.
    outbox_lease_seconds: float = Field(120, ge=5, le=3600)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    # GET /metrics (Prometheus) is off until this is set, then asked for with
    # `Authorization: Bearer <token>`.
    metrics_token: str = ""
    # /healthz says "degraded" (still 200) once the oldest reply waiting to be sent is older.
    degraded_after_seconds: float = Field(300, gt=0, le=86400)
    # Seconds without a heartbeat after which a dispatcher is taken for dead and the replies
    # it had claimed are sent by another (or by the restarted) process.
    dispatcher_dead_after_seconds: float = Field(5, ge=2, le=600)


class DeskSettings(Section):
    """The web desk (bot/desk/), served under /mesa/ by `run`."""

    enabled: bool = True
    # A session unused this long ends; staff sign in again.
    session_idle_minutes: int = Field(30, ge=1, le=24 * 60)
    page_size: int = Field(50, ge=5, le=500)
    # Seconds each sign-in attempt from an address with many recent failures is held back.
    slow_seconds: float = Field(2.0, ge=0, le=60)
    # Map tiles (for the Mapa), e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png; empty: none.
    map_tiles_url: str = ""


class WhatsAppSettings(Section):
    enabled: bool = False
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    api_base_url: str = ""
    template_sid: str = ""
    messages_per_second: float = Field(10.0, gt=0, le=1000)

    @field_validator("from_number")
    @classmethod
    def _e164(cls, value: str) -> str:
        value = value.strip().removeprefix("whatsapp:")
        if value and not re.fullmatch(r"\+[1-9]\d{6,14}", value):
            raise ValueError(_t("config.bad_phone"))
        return value


class TelegramSettings(Section):
    enabled: bool = False
    token: str = ""
    secret_token: str = ""
    mode: Literal["webhook", "polling"] = "webhook"
    api_base_url: str = ""
    staff_chat_id: int = 0
    bot_username: str = ""  # for the t.me links that open the chat with a project's keyword

    @field_validator("secret_token")
    @classmethod
    def _bot_api_secret(cls, value: str) -> str:
        # The Bot API's own rule for setWebhook's secret_token; empty is checked at start-up.
        if value and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", value):
            raise ValueError(_t("config.bad_secret_token"))
        return value


class MediaSettings(Section):
    """Files citizens send, fetched from the provider in the background."""

    directory: str = "./data/media"
    # Weeks the weekly summary's charts are kept under the media folder.
    chart_weeks: int = Field(8, ge=1, le=520)

    @field_validator("directory")
    @classmethod
    def _absolute(cls, value: str) -> str:
        # A relative folder is taken from where the service (or the command) starts, once:
        # the files it writes and the chart route it serves then agree whatever the process's
        # working directory is later.
        return str(Path(value).expanduser().absolute())

    max_mb: float = Field(25, gt=0, le=1024)
    content_types: list[str] = [
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "video/mp4",
        "video/3gpp",
        "video/quicktime",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/amr",
        "audio/aac",
        "application/pdf",
    ]


class DocumentSettings(Section):
    """The case's PDF documents (docs/citizens.md#documentos)."""

    # The institution asks for cases in writing: after the receipt the citizen gets a
    # solicitud escrita filled in from the conversation, to sign and hand in.
    written_filing: bool = False
    # Minutes a document's link for Twilio (WhatsApp takes files only by URL) stays valid.
    link_minutes: int = Field(30, ge=5, le=24 * 60)


class DeadlineSettings(Section):
    """Business days to answer, per case type (Ley 1755 de 2015; LAIP art. 71)."""

    solicitud: int = Field(15, ge=1, le=365)
    consulta: int = Field(10, ge=1, le=365)
    queja: int = Field(15, ge=1, le=365)
    reclamo: int = Field(15, ge=1, le=365)
    denuncia: int = Field(15, ge=1, le=365)
    sugerencia: int = Field(15, ge=1, le=365)
    # An emergency's deadline, whatever its type: 0 is the day it is received.
    emergency_business_days: int = Field(0, ge=0, le=365)
    extra_holidays: list[date] = []

    def for_type(self, case_type: str) -> int:
        """Business days allowed for a case of this type."""
        return int(getattr(self, case_type))


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOUR = r"([01]\d|2[0-3]):[0-5]\d"


class ScheduleSettings(Section):
    weekly_summary: str = "mon 07:00"
    daily_reminders: str = "08:00"
    # When responsible staff hear of their overdue commitments, every day.
    commitments_overdue: str = "08:00"
    visit_reminders: str = "16:00"  # local time: tomorrow's field visits, to both sides

    @field_validator("weekly_summary")
    @classmethod
    def _weekly(cls, value: str) -> str:
        if not re.fullmatch(rf"({'|'.join(_WEEKDAYS)}) {_HOUR}", value.strip().lower()):
            raise ValueError(_t("config.bad_weekly"))
        return value.strip().lower()

    @field_validator("daily_reminders", "commitments_overdue", "visit_reminders")
    @classmethod
    def _daily(cls, value: str) -> str:
        if not re.fullmatch(_HOUR, value.strip()):
            raise ValueError(_t("config.bad_daily"))
        return value.strip()


# Values that examples and tutorials show for a secret: whoever copies one has no secret.
EXAMPLE_SECRETS = frozenset(
    {"change_me", "changeme", "change-me", "secret", "cambiar", "cambiame", "test-secret", "..."}
)
MIN_HASH_SECRET = 32


class PrivacySettings(Section):
    retention_days: int = Field(730, ge=1)
    hash_secret: str = ""

    @field_validator("hash_secret")
    @classmethod
    def _strong_secret(cls, value: str) -> str:
        # Empty is allowed for a trial without channels (checked at start-up); set, it must be
        # long enough that the hashes of anonymous reporters cannot be reversed by guessing it.
        weak = value.strip().lower() in EXAMPLE_SECRETS or len(value.strip()) < MIN_HASH_SECRET
        if value and weak:
            raise ValueError(_t("config.weak_hash_secret", length=MIN_HASH_SECRET))
        return value


class LimitSettings(Section):
    messages_per_minute: int = Field(30, ge=0)
    # Notices to a citizen about one case that follow each other within this many seconds go
    # as one message (each held this long for the next); 0 sends each at once.
    notice_gather_seconds: int = Field(120, ge=0, le=3600)


class ReportingSettings(Section):
    youth_ages: tuple[int, int] = (15, 29)

    @field_validator("youth_ages")
    @classmethod
    def _ordered(cls, value: tuple[int, int]) -> tuple[int, int]:
        if not 0 <= value[0] <= value[1] <= 120:
            raise ValueError(_t("config.bad_youth"))
        return value


class ClassifierSettings(Section):
    confidence_threshold: float = Field(0.6, ge=0.0, le=1.0)
    topics: list[str] = list(DEFAULT_TOPICS)
    # When a candidate model is built from the corpus and the stored labelled examples ("off":
    # never); it replaces the running one only if it does at least as well on evaluation_set.
    retrain: str = "sun 03:30"
    # The fixed evaluation set (JSON Lines); empty: tests/evaluation/eval.jsonl of the source tree.
    evaluation_set: str = ""

    @field_validator("retrain")
    @classmethod
    def _retrain(cls, value: str) -> str:
        value = value.strip().lower()
        if value != "off" and not re.fullmatch(rf"({'|'.join(_WEEKDAYS)}) {_HOUR}", value):
            raise ValueError(_t("config.bad_retrain"))
        return value

    @field_validator("topics")
    @classmethod
    def _topic_names(cls, value: list[str]) -> list[str]:
        valid = all(re.fullmatch(r"[a-z][a-z0-9_]{0,39}", topic) for topic in value)
        if not valid or len(set(value)) != len(value) or "otro" not in value:
            raise ValueError(_t("config.bad_topics"))
        return value


class _FileThenEnvironment(BaseSettings):
    """Settings read from the file's values (given as init arguments), which the environment's
    TA_ variables override; nothing else (no .env, no secrets directory)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment overrides them.
        return (env_settings, init_settings)


class Settings(_FileThenEnvironment):
    """Every setting of spec section 3; defaults are the safe ones."""

    model_config = SettingsConfigDict(env_prefix="TA_", env_nested_delimiter="__", extra="forbid")

    institution: InstitutionSettings = InstitutionSettings()
    database: DatabaseSettings = DatabaseSettings()
    server: ServerSettings = ServerSettings()
    desk: DeskSettings = DeskSettings()
    whatsapp: WhatsAppSettings = WhatsAppSettings()
    telegram: TelegramSettings = TelegramSettings()
    media: MediaSettings = MediaSettings()
    documents: DocumentSettings = DocumentSettings()
    deadlines: DeadlineSettings = DeadlineSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    privacy: PrivacySettings = PrivacySettings()
    limits: LimitSettings = LimitSettings()
    reporting: ReportingSettings = ReportingSettings()
    classifier: ClassifierSettings = ClassifierSettings()
    # Which office handles a matter of another service (agua, electricidad, basura, policia,
    # salud, educacion) or of a configured topic: told to the citizen (see docs/emergencies.md).
    referrals: dict[str, str] = {}

    @field_validator("referrals")
    @classmethod
    def _referral_keys(cls, value: dict[str, str]) -> dict[str, str]:
        for key, office in value.items():
            if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", key) or not office.strip():
                raise ValueError(_t("config.bad_referral", key=key))
            if len(office) > 300:
                raise ValueError(_t("config.bad_referral", key=key))
        return {key: office.strip() for key, office in value.items()}

    @property
    def channels_enabled(self) -> list[str]:
        """Names of the chat channels switched on."""
        return [
            name
            for name, section in (("whatsapp", self.whatsapp), ("telegram", self.telegram))
            if section.enabled
        ]


def config_path(explicit: str | Path | None, environ: dict[str, str] | None = None) -> Path | None:
    """The file to read: --config, else TA_CONFIG, else ./config.toml when present."""
    environ = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if environ.get("TA_CONFIG"):
        return Path(environ["TA_CONFIG"])
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


def load_settings(explicit: str | Path | None = None, *, serving: bool = True) -> Settings:
    """Read and validate the settings, or raise ConfigError with a one-line reason. Only what
    serves the channels (`serving`: the `run` command) needs their credentials and the public
    URL; a supervisor's `tally` or `cases list` does not (the privacy hash secret, which keys
    what is stored, is needed by all)."""
    values = _file_values(config_path(explicit))
    _check_variables(os.environ)
    settings = _validated(Settings, values)
    if serving:
        _check_secrets(settings)
    elif settings.channels_enabled and not settings.privacy.hash_secret:
        raise ConfigError(_t("config.empty_hash_secret"))
    return settings


class _DatabaseOnly(_FileThenEnvironment):
    """The `[database]` table and its TA_DATABASE__ variables, and nothing else."""

    model_config = SettingsConfigDict(env_prefix="TA_", env_nested_delimiter="__", extra="ignore")

    database: DatabaseSettings = DatabaseSettings()


def load_database_settings(explicit: str | Path | None = None) -> DatabaseSettings:
    """Only the database settings (for `db upgrade`): a migration needs no channel's secrets,
    so the other sections are neither read nor checked."""
    values = _file_values(config_path(explicit))
    return _validated(_DatabaseOnly, {"database": values.get("database", {})}).database


def _file_values(path: Path | None) -> dict[str, Any]:
    """The tables of the configuration file, or none without a file."""
    if path is None:
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(_t("config.missing_file", path=path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_t("config.bad_toml", path=path, error=exc)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(_t("config.unreadable_file", path=path, error=reason)) from exc


def _validated(model: type[_S], values: dict[str, Any]) -> _S:
    try:
        return model(**values)
    except ValidationError as exc:
        # Not chained: a traceback of the validation error would show the values, passwords too.
        raise ConfigError(_one_line(exc)) from None
    except SettingsError as exc:
        field = re.search(r'field "(\w+)"', str(exc))
        raise ConfigError(_t("config.bad_variable", key=field[1] if field else "?")) from exc


# TA_ variables that are not settings: the config file, and what the test suite reads.
NOT_SETTINGS = {
    "TA_CONFIG",
    "TA_REQUIRE_POSTGRES",
    "TA_REQUIRE_BROWSER",
    "TA_CHROMIUM",
    "TA_SCREENSHOTS",
}


def _check_variables(environ: Any) -> None:
    """A TA_ variable that names no setting is a typo (TA_DATABASE_URL for TA_DATABASE__URL)."""
    for name in environ:
        if not name.upper().startswith("TA_") or name.upper() in NOT_SETTINGS:
            continue
        section, _, key = name[3:].lower().partition("__")
        model = Settings.model_fields.get(section)
        if model is None or (key and key.split("__")[0] not in type(model.default).model_fields):
            raise ConfigError(_t("config.unknown_variable", name=name))


def _t(key: str, /, **values: Any) -> str:
    return load_texts()(key, **values)


_REQUIRED_SECRETS = {
    "whatsapp": ("account_sid", "auth_token", "from_number"),
    "telegram": ("token", "secret_token"),
}


def _check_secrets(settings: Settings) -> None:
    for channel in settings.channels_enabled:
        section = getattr(settings, channel)
        for key in _REQUIRED_SECRETS[channel]:
            if channel == "telegram" and key == "secret_token" and section.mode == "polling":
                continue
            if not getattr(section, key):
                env = f"TA_{channel.upper()}__{key.upper()}"
                raise ConfigError(
                    _t("config.empty_secret", key=f"{channel}.{key}", channel=channel, env=env)
                )
    if settings.channels_enabled and not settings.privacy.hash_secret:
        raise ConfigError(_t("config.empty_hash_secret"))
    webhooks = settings.whatsapp.enabled or (
        settings.telegram.enabled and settings.telegram.mode == "webhook"
    )
    public_url = settings.server.public_url
    if webhooks and not re.fullmatch(r"https?://[^/\s]+(/\S*)?", public_url):
        raise ConfigError(_t("config.no_public_url"))


_PYDANTIC_REASONS = {
    "extra_forbidden": "config.unknown_key",
    "int_parsing": "config.must_be_integer",
    "int_type": "config.must_be_integer",
    "int_from_float": "config.must_be_integer",
    "float_parsing": "config.must_be_number",
    "float_type": "config.must_be_number",
    "bool_parsing": "config.must_be_bool",
    "bool_type": "config.must_be_bool",
    "string_type": "config.must_be_text",
    "date_from_datetime_parsing": "config.must_be_date",
    "date_parsing": "config.must_be_date",
    "date_type": "config.must_be_date",
    "literal_error": "config.not_allowed",
    "greater_than_equal": "config.too_small",
    "less_than_equal": "config.too_large",
    "list_type": "config.must_be_list",
    "tuple_type": "config.must_be_list",
    "too_short": "config.must_be_list",
    "too_long": "config.must_be_list",
    "missing": "config.missing",
}


def _one_line(exc: ValidationError) -> str:
    error = exc.errors()[0]
    key = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden" and key.startswith("deadlines."):
        reason = _t("config.unknown_deadline", types=", ".join(CASE_TYPES))
    elif error["type"] == "value_error":
        reason = str(error.get("ctx", {}).get("error", error["msg"]))
    elif error["type"] in _PYDANTIC_REASONS:
        reason = _t(_PYDANTIC_REASONS[error["type"]])
    else:
        reason = error["msg"]
    more = len(exc.errors()) - 1
    if more:
        return load_texts().plural("config.invalid_more", more, key=key, reason=reason)
    return _t("config.invalid", key=key, reason=reason)
