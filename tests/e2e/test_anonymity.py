"""An investigator with a copy of the database, the media folder and the logs, and the sender's
number, user id, name and every provider id, tries to find who made an anonymous denuncia, and
who someone was after they had their data erased."""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import shutil
import sqlite3
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.e2e.channels import (
    BOT_TOKEN,
    OUR_NUMBER,
    Service,
    TelegramCitizen,
    WhatsAppCitizen,
)
from tests.provider import JPEG, Provider

NUMBER, TELEGRAM_ID = "+50378561234", 7345612987
NAME, TELEGRAM_NAME = "Rigoberta Menjívar", "Xiomara Quintanilla"
DENUNCIA = "denuncio que el capataz vende el cemento de la obra del puente"
BOT_ID = BOT_TOKEN.partition(":")[0]
CODE = re.compile(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}")
FOLIO = re.compile(r"TA-2026-\d{6}")
POTHOLE = "hay un hoyo enorme en la calle principal de la colonia Las Brisas"


class TracedTelegramCitizen(TelegramCitizen):
    """A Telegram citizen whose update and message ids are large and remembered, so that the
    investigator can look for every one of them."""

    def __init__(self, service: Service, user_id: int, name: str) -> None:
        super().__init__(service, user_id, name)
        self.ids: list[str] = []

    def _traced(self, update: dict) -> dict:
        update["update_id"] = random.randrange(10**11, 10**12)
        self.ids.append(f"{BOT_ID}:{update['update_id']}")
        self.ids.append(str(update["update_id"]))
        return update

    def message(self, **content) -> dict:
        update = self._traced(super().message(**content))
        update["message"]["message_id"] = random.randrange(10**9, 10**10)
        self.ids.append(str(update["message"]["message_id"]))
        return update

    def button(self, data: str) -> dict:
        return self._traced(super().button(data))


class TracedWhatsAppCitizen(WhatsAppCitizen):
    """A WhatsApp citizen whose message sids are remembered."""

    def __init__(self, service: Service, number: str, name: str) -> None:
        super().__init__(service, number, name)
        self.ids: list[str] = []

    def form(self, body: str = "", **extra: str) -> dict:
        form = super().form(body, **extra)
        self.ids.append(form["MessageSid"])
        return form


@pytest.fixture
def service(debug_service: Service) -> Service:
    return debug_service


def provider_ids(provider: Provider, address: str, since: int = 0, but: str = "") -> list[str]:
    """What the provider called the messages sent to this address (since its nth call; not
    those whose text holds `but`)."""
    return [
        call.result_id
        for call in provider.calls[since:]
        if call.result_id
        and not (but and but in str(call.params.get("Body", "")))
        and address in (str(call.params.get("chat_id", "")), call.params.get("To", ""))
    ]


def keyed(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


HASHED: dict[str, str] = {}  # what each recomputed HMAC is of, for the failure messages


def hashes(secret: str, values: list[str]) -> list[str]:
    """Every HMAC the service ever kept of a person or a provider id, recomputed."""
    found = []
    for value in values:
        for channel in ("whatsapp", "telegram", ""):
            for purpose in ("sender", "provider", "code"):
                item = f"{channel}:{value}" if channel else value
                found.append(keyed(secret, purpose, item))
                HASHED[found[-1]] = f"{purpose}:{item}"
    return found


def dump(url: str, *, without: tuple[str, ...] = ()) -> dict[str, str]:
    """Every column of every row of every table, as text, per table."""
    engine = create_engine(url)
    tables = {}
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table in without:
                continue
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            tables[table] = "\n".join(" | ".join(map(str, row)) for row in rows)
    engine.dispose()
    return tables


def rows(url: str, query: str, **params) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text(query), params).all()
    engine.dispose()
    return found


def copy_files(service: Service, url: str, where: Path) -> dict[str, bytes]:
    """The SQLite file and its write-ahead log as a plain copy takes them, while the service
    runs (on PostgreSQL, nothing: its files are not the service's)."""
    if not url.startswith("sqlite"):
        return {}
    path = Path(url.removeprefix("sqlite:///"))
    where.mkdir()
    copies = {}
    for file in (path, path.with_name(path.name + "-wal")):
        if file.exists():
            shutil.copy(file, where / file.name)
            copies[f"copy of {file.name}"] = (where / file.name).read_bytes()
    return copies


def file_bytes(service: Service, url: str) -> dict[str, bytes]:
    """The SQLite file and its write-ahead log after a checkpoint, the media folder and the
    log, as an investigator would copy them."""
    files = {"log": service.log.read_bytes()}
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        with sqlite3.connect(path) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = path.with_name(path.name + "-wal")
        files["database"] = path.read_bytes()
        files["log of the database"] = wal.read_bytes() if wal.exists() else b""
    media = service.tmp_path / "media"
    for file in media.rglob("*") if media.exists() else ():
        files[f"name of {file}"] = str(file).encode()
        if file.is_file():
            files[str(file)] = file.read_bytes()
    return files


def holds(content: str | bytes, value: str) -> bool:
    """Whether the value stands in the content whole (an id "…:12" is not in "…:1" + "2026")."""
    pattern = rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])"
    if isinstance(content, bytes):
        return re.search(pattern.encode(), content) is not None
    return re.search(pattern, content) is not None


def assert_absent(values: list[str], files: dict[str, bytes]) -> None:
    for name, content in files.items():
        for value in values:
            what = f"{value!r} ({HASHED[value]})" if value in HASHED else repr(value)
            assert not holds(content, value), f"{name} holds {what}"


def settled(url: str) -> bool:
    """Nothing left to send or to download."""
    (pending,) = rows(url, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0]
    (media,) = rows(url, "SELECT count(*) FROM attachments WHERE status = 'pending'")[0]
    return pending == 0 and media == 0


def local_day_start(instant: datetime) -> bool:
    local = instant.replace(tzinfo=instant.tzinfo or UTC).astimezone(
        ZoneInfo("America/El_Salvador")
    )
    return (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def as_instant(value) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def test_an_investigator_with_the_database_cannot_find_who_made_an_anonymous_denuncia(
    service, provider, tmp_path
):
    url = service.env["TA_DATABASE__URL"]
    secret = service.env["TA_PRIVACY__HASH_SECRET"]
    # On Telegram first (the first case of all is anonymous), slowly: each answer read before
    # writing again; MIS DATOS in the middle. Nothing of her report, from the menu choice on,
    # may stay hers (the greeting and her consent do, as anyone's who consents).
    xiomara = TracedTelegramCitizen(service, TELEGRAM_ID, TELEGRAM_NAME)
    opening = [("send", "hola"), ("press", "1")]
    steps = [("press", "1"), ("send", DENUNCIA)]
    steps += [("send", "mis datos"), ("send", "listo"), ("press", "1")]
    steps += [("send", "Mejicanos, colonia Montreal"), ("press", "1")]
    for n, (kind, value) in enumerate([*opening, *steps]):
        if n == len(opening):  # every reply of the opening sent: what follows is the report
            provider.wait_for(lambda: settled(url), timeout=120)
            report_from, report_sent_from = len(xiomara.ids), len(provider.calls)
        seen = len(xiomara.replies())
        getattr(xiomara, kind)(value)
        provider.wait_for(lambda seen=seen: len(xiomara.replies()) > seen, timeout=120)

    # On WhatsApp: a named report first, then a denuncia typed fast (nothing waits for the
    # answers), with a photo and a look at the first case in the middle.
    rigoberta = TracedWhatsAppCitizen(service, NUMBER, NAME)
    for body in ("hola", "si", "1", POTHOLE, "listo", "si", "Apopa", "mujer 34"):
        rigoberta.send(body)
    named = provider.wait_for(lambda: FOLIO.search("\n".join(rigoberta.replies())), timeout=120)[0]
    # From here on, every id of hers belongs to the conversation that becomes anonymous (but
    # the status of her first case she is told, which stays with that case).
    provider.wait_for(lambda: settled(url), timeout=120)
    # A rebuild that readers got in the way of is owed, and retried within seconds.
    provider.wait_for(lambda: not service.http.get("/healthz").json()["purge_pending"], 120)
    anonymous_from, sent_from = len(rigoberta.ids), len(provider.calls)
    photo = provider.add_media("ME" + "7f3a" * 8, JPEG, "image/jpeg")
    for body in ("1", DENUNCIA, f"estado {named}"):
        rigoberta.send(body)
    rigoberta.send("", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    for body in ("listo", "si", "Apopa, colonia Popotlán", "1"):
        rigoberta.send(body)

    def code_of(texts: list[str]) -> str | None:
        found = CODE.search("\n".join(texts))
        return found and found[0]

    codes = [
        provider.wait_for(lambda: code_of(rigoberta.replies()), timeout=120),
        provider.wait_for(lambda: code_of([r.get("text", "") for r in xiomara.replies()]), 60),
    ]
    # Each follows their case with the code, as the receipt says.
    rigoberta.send(f"estado {codes[0].lower()}")
    xiomara.send(f"estado {codes[1]}")
    provider.wait_for(lambda: sum("Estado" in r for r in rigoberta.replies()) >= 2, timeout=120)
    provider.wait_for(lambda: settled(url), timeout=120)
    # A rebuild that readers got in the way of is owed, and retried within seconds.
    provider.wait_for(lambda: not service.http.get("/healthz").json()["purge_pending"], 120)
    ids = [
        *rigoberta.ids[anonymous_from:],
        *xiomara.ids[report_from:],
        photo,
        photo.rsplit("/", 1)[-1],
        *provider_ids(provider, f"whatsapp:{NUMBER}", since=sent_from, but=named),
        *(
            f"{TELEGRAM_ID}:{i}"
            for i in provider_ids(provider, str(TELEGRAM_ID), since=report_sent_from)
        ),
    ]
    recomputed = hashes(secret, [NUMBER, f"whatsapp:{NUMBER}", str(TELEGRAM_ID), *ids])
    secrets_ = [*ids, *recomputed, *codes, "Código secreto de seguimiento"]

    # A copy of the files taken while the service runs, as a plain backup would (no
    # checkpoint): the file is rebuilt right after the last confidential reply leaves, so a copy
    # taken from then on holds none of it (the service keeps writing meanwhile: heartbeats).
    def a_clean_copy() -> list[dict[str, bytes]]:
        shutil.rmtree(tmp_path / "copy", ignore_errors=True)
        copy = copy_files(service, url, tmp_path / "copy")  # on PostgreSQL: no files, {}
        clean = not any(holds(content, value) for content in copy.values() for value in secrets_)
        return [copy] if clean else []

    (copy,) = provider.wait_for(a_clean_copy, timeout=120)
    service.stop()

    cases = rows(url, "SELECT id, created_at, folio FROM cases WHERE anonymous ORDER BY id")
    assert len(cases) == 2
    person = [NUMBER, NUMBER.removeprefix("+"), str(TELEGRAM_ID), "Rigoberta", "Menjívar"]
    person += ["Xiomara", "Quintanilla", *codes]

    # Every column of every anonymous case's rows, and of every row that is no one's: the
    # person's own contact and named case may hold their number and name; nothing else may,
    # nor the named case's folio, which she asked about while reporting.
    anonymous = [
        "SELECT * FROM cases WHERE anonymous",
        "SELECT m.* FROM messages m JOIN cases c ON c.id = m.case_id WHERE c.anonymous",
        "SELECT a.* FROM attachments a JOIN cases c ON c.id = a.case_id WHERE c.anonymous",
        "SELECT e.* FROM case_events e JOIN cases c ON c.id = e.case_id WHERE c.anonymous",
        "SELECT * FROM messages WHERE case_id IS NULL AND contact_id IS NULL",
        """SELECT o.* FROM outbox o LEFT JOIN messages m ON m.id = o.message_id
           LEFT JOIN cases c ON c.id = m.case_id WHERE o.message_id IS NULL OR c.anonymous""",
        "SELECT * FROM conversation_states",
    ]
    for query in anonymous:
        content = "\n".join(" | ".join(map(str, row)) for row in rows(url, query))
        for value in [*person, *ids, *recomputed, named]:
            assert not holds(content, value), f"{query} holds {value!r}"
    # And no provider id, HMAC or code anywhere, in any table.
    for table, content in dump(url).items():
        for value in [*ids, *recomputed, *codes]:
            assert not holds(content, value), f"{table} holds {value!r}"
    # The file and its log as they were copied, the media folder and the service's log (DEBUG).
    assert_absent(secrets_, {**copy, **file_bytes(service, url)})
    assert not re.search(r"attachment \d+ stored", service.log_text())

    # Nothing of the people's contacts is referred to by the anonymous cases' rows, and their
    # contact rows keep no time finer than the day (no count, no last message).
    contacts = rows(
        url, "SELECT * FROM contacts WHERE address IN (:a, :b)", a=NUMBER, b=str(TELEGRAM_ID)
    )
    assert len(contacts) == 2
    for contact in contacts:
        for value in contact:
            if isinstance(value, datetime) or re.fullmatch(
                r"\d{4}-\d\d-\d\d[ T][\d:.+]+", str(value)
            ):
                assert as_instant(value).astimezone(UTC).time() == time(0), contact
    linked = rows(
        url,
        "SELECT count(*) FROM messages m JOIN cases c ON c.id = m.case_id "
        "WHERE c.anonymous AND m.contact_id IS NOT NULL",
    )[0][0]
    assert linked == 0
    assert rows(url, "SELECT count(*) FROM conversation_states")[0][0] == 0

    # The join that found them before: same-time outgoing messages and their provider ids.
    for case_id, *_ in cases:
        joined = rows(
            url,
            """SELECT DISTINCT o.provider_id FROM messages i JOIN messages o
               ON o.created_at = i.created_at AND o.direction = 'out'
               WHERE i.case_id = :case AND i.direction = 'in' AND o.provider_id IS NOT NULL""",
            case=case_id,
        )
        assert joined == []
    # Every other reply shares its instant with the message or event that caused it: one that
    # does not answered a question taken into an anonymous case ("estado FOLIO" of her named
    # case, asked while drafting), and would name her (the outside attack of 2026-12-03, night).
    unanswered = rows(
        url,
        """SELECT o.id, c.address, o.case_id, o.created_at FROM messages o
           JOIN contacts c ON c.id = o.contact_id
           WHERE o.direction = 'out'
            AND NOT EXISTS (SELECT 1 FROM messages i WHERE i.direction = 'in'
                            AND i.contact_id = o.contact_id AND i.created_at = o.created_at)
            AND NOT EXISTS (SELECT 1 FROM case_events e WHERE e.at = o.created_at)
            AND NOT EXISTS (SELECT 1 FROM community_updates u WHERE u.created_at = o.created_at)""",
    )
    assert [row for row in unanswered if row[1] in (NUMBER, str(TELEGRAM_ID))] == []
    # No time of the cases, their messages, attachments or events is finer than the day, and
    # their place among other rows says nothing either: their ids and folios are out of the
    # sequence the rows with exact times follow.
    times = [as_instant(created) for _, created, _ in cases]
    numbered = [case_id for case_id, *_ in cases]
    for table, column in (
        ("messages", "created_at"),
        ("attachments", "created_at"),
        ("case_events", "at"),
    ):
        found = rows(
            url,
            f"SELECT x.id, x.{column} FROM {table} x JOIN cases c ON c.id = x.case_id "
            f"WHERE c.anonymous AND x.{column} <= c.created_at",
        )
        times += [as_instant(at) for _, at in found]
        numbered += [row_id for row_id, _ in found]
    assert len(times) > 20 and all(local_day_start(t) for t in times)
    assert all(row_id < 0 for row_id in numbered)
    for table, column in (
        ("cases", "created_at"),
        ("case_events", "at"),
        ("messages", "created_at"),
        ("attachments", "created_at"),
    ):
        # Rows numbered apart keep only their day; the rest keep exact times (and, but for
        # cases, ids that are those times: see the quiet line's test below).
        apart = rows(url, f"SELECT {column} FROM {table} WHERE id < 0")
        assert all(local_day_start(as_instant(at)) for (at,) in apart), table
    assert all(int(folio.rsplit("-", 1)[1]) >= 900_000 for *_, folio in cases)
    # The photo is kept, by its content only, and its file's time is the day.
    (attachment,) = rows(
        url,
        "SELECT a.provider_ref, a.local_path FROM attachments a JOIN cases c ON c.id = a.case_id"
        " WHERE c.anonymous",
    )
    assert attachment[0] == "" and Path(attachment[1]).read_bytes() == JPEG
    for path in (Path(attachment[1]), Path(attachment[1]).parent):
        assert datetime.fromtimestamp(path.stat().st_mtime, UTC).time() == time(0)


def test_after_erasure_and_refused_consent_nothing_of_the_person_remains(service, provider):
    url = service.env["TA_DATABASE__URL"]
    secret = service.env["TA_PRIVACY__HASH_SECRET"]
    rigoberta = TracedWhatsAppCitizen(service, NUMBER, NAME)
    photo = provider.add_media("ME" + "5e1d" * 8, JPEG, "image/jpeg")
    pothole = "el tragante de la colonia Zacamil frente a mi casa esta tapado, vengan a destaparlo"
    for body in ("hola", "si", "1", pothole):
        rigoberta.send(body)
    rigoberta.send("", NumMedia="1", MediaUrl0=photo, MediaContentType0="image/jpeg")
    for body in ("listo", "si", "Mejicanos", "omitir"):
        rigoberta.send(body)
    provider.wait_for(lambda: any("TA-" in r for r in rigoberta.replies()), timeout=120)
    provider.wait_for(lambda: settled(url), timeout=120)
    # A rebuild that readers got in the way of is owed, and retried within seconds.
    provider.wait_for(lambda: not service.http.get("/healthz").json()["purge_pending"], 120)
    rigoberta.send("borrar mis datos")
    rigoberta.send("si")
    xiomara = TracedTelegramCitizen(service, TELEGRAM_ID, TELEGRAM_NAME)
    xiomara.send("hola, se hundio la calle frente a la escuela")
    provider.wait_for(lambda: xiomara.replies(), timeout=120)
    xiomara.send("no")  # no consent
    ernesto = TracedTelegramCitizen(service, TELEGRAM_ID + 1, "Ernesto Guardado")
    for value in ("hola", "si", "1", "el puente de hamaca del canton El Jicarito se cae"):
        ernesto.send(value)
    provider.wait_for(lambda: len(ernesto.replies()) >= 4, timeout=120)

    # The confirmations reach the people on both channels.
    provider.wait_for(lambda: any("borramos" in r.lower() for r in rigoberta.replies()), 30)
    provider.wait_for(lambda: len(xiomara.replies()) >= 2, timeout=120)
    erased = service.cli("privacy", "erase", "--telegram-id", str(TELEGRAM_ID + 1), "--yes")
    assert erased.returncode == 0, erased.stderr
    provider.wait_for(lambda: settled(url), timeout=120)
    # A rebuild that readers got in the way of is owed, and retried within seconds.
    provider.wait_for(lambda: not service.http.get("/healthz").json()["purge_pending"], 120)
    service.stop()

    ids = [
        *rigoberta.ids,
        *xiomara.ids,
        *ernesto.ids,
        photo,
        photo.rsplit("/", 1)[-1],
        *provider_ids(provider, f"whatsapp:{NUMBER}"),
        *(f"{TELEGRAM_ID}:{i}" for i in provider_ids(provider, str(TELEGRAM_ID))),
        *(f"{TELEGRAM_ID + 1}:{i}" for i in provider_ids(provider, str(TELEGRAM_ID + 1))),
    ]
    person = [NUMBER, NUMBER.removeprefix("+"), str(TELEGRAM_ID), str(TELEGRAM_ID + 1)]
    person += ["Rigoberta", "Menjívar", "Xiomara", "Quintanilla", "Ernesto", "Guardado"]
    said = [pothole, "se hundio la calle", "hamaca del canton"]
    recomputed = hashes(secret, [NUMBER, str(TELEGRAM_ID), str(TELEGRAM_ID + 1), *ids])
    for table, content in dump(url).items():
        for value in person + ids + said + recomputed:
            assert not holds(content, value), f"{table} holds {value!r}"
    files = file_bytes(service, url)
    assert_absent([*ids, *recomputed, *person[:4], *said], files)
    if url.startswith("sqlite"):
        assert_absent(person, files)
    assert OUR_NUMBER  # the institution's own number may be anywhere


# Numbered by time rather than counted: the tables whose rows can leave for an anonymous case.
TIMED = ("messages", "outbox", "attachments", "case_events")


def skipped_ids(url: str, table: str) -> dict[int, int]:
    """The investigator's count: each row with an id of its own (the anonymous rows' are
    negative), and how many ids are skipped between it and the next. Were ids counted, the
    skipped ones would be rows taken away."""
    ids = [row_id for (row_id,) in rows(url, f"SELECT id FROM {table} WHERE id > 0 ORDER BY id")]
    return {a: b - a - 1 for a, b in zip(ids, ids[1:], strict=False)}


def test_on_a_quiet_line_the_numbering_of_rows_does_not_point_at_who_made_an_anonymous_denuncia(
    service, provider
):
    url = service.env["TA_DATABASE__URL"]
    people = {
        "+50378561234": WhatsAppCitizen(service, "+50378561234", NAME),
        "+50370112233": WhatsAppCitizen(service, "+50370112233", "Ana Tobar"),
        "+50370445566": WhatsAppCitizen(service, "+50370445566", "Beto Alfaro"),
    }
    rigoberta, ana, beto = people.values()
    photos = [provider.add_media(f"ME{n}" + "a1b2" * 8, JPEG, "image/jpeg") for n in range(3)]

    def say(citizen: WhatsAppCitizen, body: str, photo: str) -> None:
        """One message (a photo where the body is blank), answered in full before anyone
        writes again: a quiet line, where every row of the others is exactly timed."""
        extra = {"NumMedia": "1", "MediaUrl0": photo, "MediaContentType0": "image/jpeg"}
        citizen.send(body, **({} if body else extra))
        provider.wait_for(lambda: settled(url), timeout=120)

    report = ["hola", "si", "1", POTHOLE, "", "listo", "si", "Apopa", "mujer 34"]
    ana_report = ["hola", "si", "1", POTHOLE.replace("Las Brisas", "Santa Lucía"), ""]
    ana_report += ["listo", "si", "Soyapango", "mujer 51"]
    beto_report = ["hola", "si", "1", POTHOLE.replace("Las Brisas", "Miramonte"), ""]
    beto_report += ["listo", "si", "San Salvador", "hombre 45"]
    anonymous = ["1", DENUNCIA, "", "listo", "si", "Apopa, colonia Popotlán", "1"]
    # Rigoberta reports a pothole by name while Ana starts hers; then, while Ana finishes hers
    # and Beto makes his, she files an anonymous denuncia with a photo; Beto ends the day.
    turns = [(rigoberta, body) for body in report]
    for n, body in enumerate(ana_report[:4]):
        turns.insert(2 * n + 1, (ana, body))
    tail = [(ana, body) for body in ana_report[4:]] + [(beto, body) for body in beto_report]
    for n, body in enumerate(anonymous):
        tail.insert(2 * n + 1, (rigoberta, body))
    photo_of = dict(zip((ana, rigoberta, beto), photos, strict=True))
    for citizen, body in [*turns, *tail]:
        say(citizen, body, photo_of[citizen])
    code = provider.wait_for(lambda: CODE.search("\n".join(rigoberta.replies())), timeout=120)
    assert code and all(FOLIO.search("\n".join(p.replies())) for p in (ana, beto))
    folios = {
        "anonymous": rows(url, "SELECT folio FROM cases WHERE anonymous")[0][0],
        "ana": FOLIO.search("\n".join(ana.replies()))[0],
    }
    service.stop()

    # The investigator, with the database alone, lists each table's rows in id order and counts
    # the ids skipped after each. Were ids counted, the only skips would be the anonymous
    # conversation's rows taken away: the first would follow Rigoberta's last message of her
    # own, and her neighbours' exact times would date each missing row. Here every row is
    # followed by skipped ids, in each table: no count in which a hole could show.
    skips = {table: skipped_ids(url, table) for table in TIMED}
    for table, skipped in skips.items():
        assert len(skipped) >= 2 and all(n > 0 for n in skipped.values()), table
    # So the suspects the skips name (whoever wrote a message right before skipped ids) are
    # everyone, not the one whose last message of her own came before the first hole.
    suspects = set()
    for number in people:
        (contact,) = rows(url, "SELECT id FROM contacts WHERE address = :a", a=number)
        theirs = rows(url, "SELECT id FROM messages WHERE contact_id = :c", c=contact[0])
        if any(skips["messages"].get(row_id, 0) > 0 for (row_id,) in theirs):
            suspects.add(number)
    assert suspects == set(people)
    # Nor is a count kept beside the ids: on SQLite each id is the row's rowid and no table's
    # largest id is remembered; on PostgreSQL no sequence numbers these tables.
    for table in TIMED:
        if url.startswith("sqlite"):
            assert rows(url, f"SELECT count(*) FROM {table} WHERE rowid <> id") == [(0,)]
            assert not rows(url, "SELECT 1 FROM sqlite_sequence WHERE name = :t", t=table)
        else:
            assert rows(url, f"SELECT pg_get_serial_sequence('{table}', 'id')") == [(None,)]
            default = "SELECT column_default FROM information_schema.columns WHERE table_name = :t"
            default += " AND column_name = 'id' AND table_schema = current_schema()"
            assert rows(url, default, t=table) == [(None,)]

    # The order still holds. Each person's first answers reached the provider in the order of
    # the turn: the greeting, then the privacy notice.
    for citizen in people.values():
        first, second, *_ = citizen.replies()
        assert first.startswith("¡Hola!") and second.startswith("Aviso de privacidad")
    # A case's timeline shows its messages in the order they were written, a named case's
    # (numbered by time) as an anonymous one's (numbered apart).
    for folio, written in ((folios["ana"], ana_report), (folios["anonymous"], anonymous)):
        shown = service.cli("cases", "show", folio)
        assert shown.returncode == 0, shown.stderr
        incoming = [line.split(" ← ", 1)[1] for line in shown.stdout.splitlines() if " ← " in line]
        # From the description on (the anonymous case's from the menu's "1"), every message; a
        # photo without words says so, and the answer given «solo para estadísticas» is not shown.
        shown_as = {
            "": "(sin texto: una ubicación, un archivo u otro contenido)",
            "mujer 51": "(respuesta para estadísticas: no se muestra)",
        }
        written = [shown_as.get(text, text) for text in written]
        assert len(incoming) >= 6 and incoming == written[-len(incoming) :], shown.stdout
