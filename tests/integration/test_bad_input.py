"""Property-based tests: whatever arrives at the webhooks or the dialogue, the answer is 2xx or
4xx, never 5xx, and the database stays consistent.

The real Starlette application runs in-process (no provider: the dispatcher is not started)
on SQLite and PostgreSQL; Twilio forms are signed and Telegram updates carry the secret, so the
payloads reach the parsers. Examples are derandomized, so a run cannot flake.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text
from starlette.testclient import TestClient

from bot.app import create_app, utc_now
from bot.channels.whatsapp import Form
from bot.server import build_asgi, build_service
from handlers.core.messages import Location, Media
from tests.builders import (
    TWILIO_SIGNATURE,
    telegram_headers,
    telegram_update,
    telegram_user,
    twilio_signature,
)
from tests.helpers import Citizen, make_settings

PUBLIC_URL = "http://testserver"
AUTH_TOKEN = "auth-token-for-property-tests"
SECRET = "secret-for-property-tests"
OURS = "+50322220000"
SENDERS = ("+50370001234", "+50370005678", "+573001234567")

PROPERTIES = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def mostly(usual, unusual, odds: int = 4):
    """`usual` about `odds` times in `odds + 1`, else `unusual`."""
    return st.integers(0, odds).flatmap(lambda n: unusual if n == 0 else usual)


# Random Unicode with what breaks things: control characters, NUL, bidi marks, emoji, SQL.
small_text = st.one_of(
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.sampled_from(["\x00", "\x00hola\x00", "\u202e\u200b", "'; DROP TABLE cases; --", "🙂" * 50]),
)
# Now and then a text around the 64 KiB limit.
nasty_text = mostly(small_text, st.integers(60_000, 70_000).map(lambda n: "x" * n), odds=12)
numberish = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    nasty_text,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.fixture
def client(database_url: str) -> Iterator[tuple[TestClient, Engine]]:
    """The ASGI service on a migrated database, both channels on, nothing started."""
    app = create_app(
        make_settings(
            database={"url": database_url},
            server={"public_url": PUBLIC_URL},
            whatsapp={
                "enabled": True,
                "account_sid": "AC" + "0" * 32,
                "auth_token": AUTH_TOKEN,
                "from_number": OURS,
            },
            telegram={"enabled": True, "token": "123:abc", "secret_token": SECRET},
        )
    )
    app.migrate()
    # Without `with`, the TestClient runs no lifespan: nothing is sent or fetched.
    yield TestClient(build_asgi(build_service(app, utc_now))), app.engine
    app.engine.dispose()


def assert_consistent(engine: Engine) -> None:
    """Every case has a folio and someone (or a reason for no one); no row points nowhere."""
    orphans = {
        "case without folio or sender": """SELECT count(*) FROM cases WHERE folio = '' OR
            (contact_id IS NULL AND NOT anonymous AND channel NOT IN ('telefono', 'presencial')
             AND id NOT IN (SELECT case_id FROM case_events
                            WHERE kind = 'personal_data_erased'))""",
        "anonymous case with a sender": """SELECT count(*) FROM messages m JOIN cases c
            ON c.id = m.case_id WHERE c.anonymous AND m.contact_id IS NOT NULL""",
        "outbox row without message": """SELECT count(*) FROM outbox o WHERE o.message_id IS
            NOT NULL AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = o.message_id)""",
        "reply to a citizen never queued": """SELECT count(*) FROM messages m
            WHERE m.direction = 'out' AND m.contact_id IS NOT NULL
            AND m.status IN ('pending', 'waiting')
            AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.message_id = m.id)""",
        "message of a missing case": """SELECT count(*) FROM messages m WHERE m.case_id IS NOT
            NULL AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.id = m.case_id)""",
        "message of a missing contact": """SELECT count(*) FROM messages m WHERE m.contact_id IS
            NOT NULL AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = m.contact_id)""",
        "attachment without message": """SELECT count(*) FROM attachments a WHERE NOT EXISTS
            (SELECT 1 FROM messages m WHERE m.id = a.message_id)""",
        "state of a missing contact": """SELECT count(*) FROM conversation_states s WHERE NOT
            EXISTS (SELECT 1 FROM contacts c WHERE c.id = s.contact_id)""",
        "event of a missing case": """SELECT count(*) FROM case_events e WHERE NOT EXISTS
            (SELECT 1 FROM cases c WHERE c.id = e.case_id)""",
    }
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":  # PostgreSQL refuses NUL in text anyway
            orphans["NUL stored"] = "SELECT count(*) FROM messages WHERE instr(body, char(0)) > 0"
        for what, query in orphans.items():
            assert connection.execute(text(query)).scalar_one() == 0, what


def signed(client: TestClient, pairs: list[tuple[str, str]], path: str = "/webhooks/whatsapp"):
    body = urlencode(pairs).encode()
    signature = twilio_signature(PUBLIC_URL + path, Form(body), AUTH_TOKEN)
    headers = {TWILIO_SIGNATURE: signature, "Content-Type": "application/x-www-form-urlencoded"}
    return client.post(path, content=body, headers=headers)


@st.composite
def twilio_forms(draw) -> list[tuple[str, str]]:
    """A Twilio form: mostly well-formed, with fields missing, repeated, of the wrong kind."""
    fields = {
        "MessageSid": draw(mostly(st.just("SM" + uuid.uuid4().hex), small_text)),
        "From": "whatsapp:" + draw(mostly(st.sampled_from(SENDERS), small_text)),
        "To": draw(
            mostly(st.just(f"whatsapp:{OURS}"), st.sampled_from(["", "whatsapp:+50399990000"]))
        ),
        "Body": draw(nasty_text),
        "ProfileName": draw(nasty_text),
        "NumMedia": draw(
            mostly(st.integers(0, 3).map(str), st.one_of(numberish, st.just(str(10**9))))
        ),
        "Latitude": draw(mostly(st.just(""), numberish)),
        "Longitude": draw(mostly(st.just(""), numberish)),
        "ButtonPayload": draw(mostly(st.just(""), small_text)),
    }
    # Up to three media of mixed kinds, or very many (Twilio sends ten at most).
    media = draw(mostly(st.integers(0, 3), st.sampled_from([11, 200])))
    url = draw(
        mostly(
            st.just("https://api.twilio.com/x/Media/ME1"),
            st.sampled_from(["ftp://evil", "", "javascript:alert(1)", "http://169.254.169.254/"]),
        )
    )
    content_type = draw(st.sampled_from(["image/jpeg", "", "x" * 200]))
    for index in range(media):
        fields[f"MediaUrl{index}"] = url
        fields[f"MediaContentType{index}"] = content_type
    dropped = draw(mostly(st.just(set()), st.sets(st.sampled_from(sorted(fields)), max_size=3)))
    pairs = [(k, v) for k, v in fields.items() if k not in dropped]
    repeated = draw(mostly(st.just([]), st.lists(st.sampled_from(sorted(fields)), max_size=3)))
    return pairs + [(k, draw(small_text)) for k in repeated]


@given(form=twilio_forms())
@settings(parent=PROPERTIES, max_examples=60)
def test_any_signed_twilio_form_gets_2xx_or_4xx_and_leaves_the_database_consistent(client, form):
    http, engine = client
    response = signed(http, form)
    assert response.status_code < 500
    if len(urlencode(form)) > 64 * 1024:
        assert response.status_code == 413
    assert_consistent(engine)


@given(form=twilio_forms())
@PROPERTIES
def test_any_signed_delivery_report_gets_2xx_or_4xx(client, form):
    http, engine = client
    form = [*form, ("MessageStatus", "failed"), ("ErrorCode", "63016")]
    assert signed(http, form, "/webhooks/whatsapp/status").status_code < 500
    assert_consistent(engine)


@st.composite
def telegram_updates(draw) -> object:
    """A Telegram update: a message or button of the right shape with wrong values, or any
    JSON at all."""
    user_id = draw(
        mostly(st.integers(1, 10**6), st.one_of(st.integers(-(2**70), 2**70), small_text))
    )
    usual = st.fixed_dictionaries(
        {"text": nasty_text},
        optional={
            "location": st.fixed_dictionaries(
                {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}
            ),
            "photo": small_text.map(
                lambda ref: [{"file_id": ref, "file_unique_id": "u", "width": 9, "height": 9}]
            ).flatmap(lambda photos: st.sampled_from([photos, photos * 400])),
        },
    )
    content = draw(
        mostly(
            usual,
            st.fixed_dictionaries(
                {},
                optional={
                    "text": mostly(nasty_text, json_values),
                    "caption": nasty_text,
                    "location": st.fixed_dictionaries(
                        {
                            "latitude": mostly(st.floats(-90, 90), st.floats() | json_values),
                            "longitude": mostly(st.floats(-180, 180), st.floats() | json_values),
                        }
                    ),
                    "photo": st.lists(
                        st.fixed_dictionaries(
                            {
                                "file_id": nasty_text,
                                "file_unique_id": st.just("u"),
                                "width": st.integers(),
                                "height": st.integers(),
                            }
                        ),
                        max_size=3,
                    ).flatmap(lambda photos: st.sampled_from([photos, photos * 400])),
                    "contact": st.fixed_dictionaries(
                        {"phone_number": nasty_text, "first_name": nasty_text}
                    ),
                    "via_bot": st.just({"id": 7, "is_bot": True, "first_name": "Otro"}),
                    "entities": st.lists(json_values, max_size=3),
                },
            ),
        )
    )
    message = {
        "message_id": draw(mostly(st.integers(0, 10**6), json_values, odds=8)),
        "date": draw(mostly(st.integers(0, 2**31), json_values, odds=8)),
        "chat": {"id": user_id, "type": draw(mostly(st.just("private"), st.just("group")))},
        "from": {
            "id": user_id,
            "is_bot": draw(mostly(st.just(False), st.just(True))),
            "first_name": draw(small_text),
        },
        **content,
    }
    button = {
        "id": draw(nasty_text),
        "from": message["from"],
        "chat_instance": "1",
        "data": draw(nasty_text),
    }
    update_id = draw(mostly(st.integers(0, 2**40), st.integers(-(2**70), 2**70) | json_values))
    return draw(
        mostly(
            st.sampled_from(
                [{"update_id": update_id, "message": message}] * 3
                + [{"update_id": update_id, "callback_query": button}]
            ),
            json_values,
        )
    )


@given(update=telegram_updates())
@settings(parent=PROPERTIES, max_examples=60)
def test_any_telegram_update_with_the_secret_gets_2xx_or_4xx_and_leaves_the_database_consistent(
    client, update
):
    http, engine = client
    body = json.dumps(update).encode()
    headers = telegram_headers(SECRET, json=True)
    response = http.post("/webhooks/telegram", content=body, headers=headers)
    assert response.status_code < 500
    if len(body) > 64 * 1024:
        assert response.status_code == 413
    assert_consistent(engine)


def test_a_telegram_message_with_half_a_character_is_kept_with_a_replacement_and_answered(client):
    """Half of a UTF-16 pair ("\\ud800" in the JSON) is valid JSON but no character, and no
    database stores it: every delivery of such an update failed (503), so it was never kept
    and Telegram would have delivered it again and again."""
    http, engine = client
    user = telegram_user(62001234, first_name="Ana \ud800")
    update = telegram_update("hola \ud800 se cayó el puente", user=user, update_id=62001234)
    headers = telegram_headers(SECRET, json=True)
    for _ in range(2):  # and delivered again: kept once
        response = http.post("/webhooks/telegram", content=json.dumps(update), headers=headers)
        assert response.status_code == 200
    with engine.connect() as connection:
        bodies = connection.execute(text("SELECT body FROM messages WHERE direction = 'in'"))
        assert [body for (body,) in bodies] == ["hola \ufffd se cayó el puente"]
    assert_consistent(engine)


@given(raw=st.binary(max_size=300))
@PROPERTIES
def test_bytes_that_are_not_json_or_not_a_form_are_refused_with_4xx(client, raw):
    http, engine = client
    headers = telegram_headers(SECRET)
    assert http.post("/webhooks/telegram", content=raw, headers=headers).status_code < 500
    headers = {
        TWILIO_SIGNATURE: twilio_signature(PUBLIC_URL + "/webhooks/whatsapp", {}, AUTH_TOKEN)
    }
    assert http.post("/webhooks/whatsapp", content=raw, headers=headers).status_code < 500
    assert_consistent(engine)


# The dialogue: what a person may type at any step, in any order.
words_people_type = st.sampled_from(
    [
        "hola",
        "si",
        "no",
        "1",
        "2",
        "3",
        "4",
        "5",
        "listo",
        "menu",
        "cancelar",
        "ayuda",
        "omitir",
        "mujer 34",
        "estado",
        "estado TA-2026-000001",
        "mis datos",
        "borrar mis datos",
        "se cayó el puente y hay gente atrapada",
        "denuncio que venden el asfalto de la obra",
        "la calle de la colonia Las Brisas tiene un hoyo enorme",
        "San Miguel, colonia Centro",
        "tomar:TA-2026-000001",
        "/cerrar TA-2026-000001 listo",
        "ABCD-EFGH-JKLM",
    ]
)
message_parts = st.tuples(
    st.one_of(words_people_type, nasty_text),
    st.lists(
        st.builds(
            Media,
            st.sampled_from(["photo", "video", "voice", "document"]),
            st.text(min_size=1, max_size=50),
            st.sampled_from([None, "image/jpeg", "audio/ogg"]),
        ),
        max_size=3,
    ),
    st.one_of(
        st.none(),
        st.builds(
            Location,
            st.floats(-90, 90),
            st.floats(-180, 180),
            st.one_of(st.none(), nasty_text),
            st.one_of(st.none(), nasty_text),
        ),
    ),
)


@given(conversation=st.lists(st.tuples(st.sampled_from(SENDERS), message_parts), max_size=14))
@settings(parent=PROPERTIES, max_examples=30)
def test_any_sequence_of_messages_keeps_the_dialogue_answering_and_the_database_consistent(
    app, conversation
):
    people = {
        address: Citizen(app.dialogue, app.uow, address=address, channel="whatsapp")
        for address in SENDERS
    }
    for address, (body, media, location) in conversation:
        people[address].send(body, media=tuple(media), location=location)
    assert_consistent(app.engine)
