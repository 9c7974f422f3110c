"""The web desk (/mesa/) against the real application, on SQLite and PostgreSQL: signing in with
a second factor, the lock, CSRF, what each role and team may open, anonymity, escaping."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bot.desk.accounts import current_code, hash_password, new_totp_secret
from bot.server import build_asgi, build_service
from storage.models import Attachment, AuditEntry, Staff, Team
from tests.helpers import POTHOLE, TUESDAY, Citizen, pdf_text

PASSWORD = "una clave bastante larga"
CITIZEN_NUMBER = "+50370009999"
CITIZEN_NAME = "Rigoberta Menchú"


class StillClock:
    """A clock that stays where it is put (TOTP codes depend on the instant)."""

    def __init__(self, start: datetime = TUESDAY) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> StillClock:
    return StillClock()


@pytest.fixture
def client(app, clock):
    app.settings.desk.slow_seconds = 0  # the slow-down after many failures is not waited for
    service = build_service(app, clock, channels=[])
    # No lifespan: nothing runs beside the requests (no dispatcher, no scheduler).
    return TestClient(build_asgi(service), base_url="http://testserver", follow_redirects=False)


def make_account(app, name: str, username: str, role: str = "agent") -> Staff:
    secret = new_totp_secret()
    with app.uow() as uow:
        member = uow.staff.add(
            Staff(
                name=name,
                role=role,
                username=username,
                password_hash=hash_password(PASSWORD),
                totp_secret=secret,
                created_at=TUESDAY,
            )
        )
        uow.commit()
    return member


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found[1]


def sign_in(client, member: Staff, clock, *, password: str = PASSWORD, otp: str | None = None):
    client.cookies.clear()
    form = client.get("/mesa/login")
    code = otp if otp is not None else current_code(member.totp_secret, clock())
    answer = client.post(
        "/mesa/login",
        data={
            "csrf": csrf_of(form.text),
            "username": member.username,
            "password": password,
            "otp": code,
        },
    )
    clock.advance(seconds=30)  # the next code, for the next sign-in (a code works once)
    return answer


def report(app, clock, *lines: str, address: str = CITIZEN_NUMBER) -> Citizen:
    citizen = Citizen(
        app.dialogue, app.uow, address=address, channel="whatsapp", clock=clock, sender_id=None
    )
    citizen.converse(*lines)
    return citizen


def an_agent_on_a_new_case(app, client, clock) -> tuple[str, str]:
    """Ana, an agent, signed in on the page of the pothole a citizen just reported: the
    page's path and its form token."""
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    sign_in(client, ana, clock)
    folio = "/mesa/casos/TA-2026-000001"
    return folio, csrf_of(client.get(folio).text)


def test_an_agent_signs_in_with_a_totp_code_and_sees_the_case_in_the_bandeja(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    assert client.get("/mesa/bandeja").headers["location"].startswith("/mesa/login")
    signed = sign_in(client, ana, clock)
    assert signed.status_code == 303 and signed.headers["location"] == "/mesa/bandeja"
    cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    page = client.get("/mesa/bandeja")
    assert page.status_code == 200 and "TA-2026-000001" in page.text
    rows = client.get("/mesa/bandeja/filas?carpeta=sin_asignar")
    assert "TA-2026-000001" in rows.text
    assert "TA-2026-000001" not in client.get("/mesa/bandeja/filas?carpeta=mias").text


def test_a_wrong_code_or_password_is_refused_and_a_code_works_once(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    assert sign_in(client, ana, clock, otp="000000").status_code == 401
    assert sign_in(client, ana, clock, password="otra clave cualquiera").status_code == 401
    code = current_code(ana.totp_secret, clock())
    assert sign_in(client, ana, clock, otp=code).status_code == 303
    # 30 seconds later the same code would still be in its window, but it was used.
    assert sign_in(client, ana, clock, otp=code).status_code == 401


def test_a_recovery_code_stands_in_for_the_authenticator_once(app, client, clock):
    from bot.desk.accounts import recovery_hash

    ana = make_account(app, "Ana Pérez", "ana")
    with app.uow() as uow:
        uow.desk.replace_recovery_codes(ana.id, [recovery_hash("abcd-1234-ef56")])
        uow.commit()
    assert sign_in(client, ana, clock, otp="ABCD-1234-EF56").status_code == 303
    client.cookies.clear()
    assert sign_in(client, ana, clock, otp="abcd-1234-ef56").status_code == 401


def test_the_sixth_attempt_after_five_wrong_passwords_is_refused_even_with_the_right_one(
    app, client, clock
):
    ana = make_account(app, "Ana Pérez", "ana")
    for _ in range(5):
        assert sign_in(client, ana, clock, password="no es la clave").status_code == 401
    refused = sign_in(client, ana, clock)
    assert refused.status_code == 401 and "bloqueada" in refused.text
    clock.advance(minutes=16)
    assert sign_in(client, ana, clock).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    assert client.post("/mesa/login", data={"username": "ana"}).status_code == 403
    sign_in(client, ana, clock)
    refused = client.post("/mesa/casos/TA-2026-000001/nota", data={"texto": "sin token"})
    assert refused.status_code == 403
    wrong = client.post(
        "/mesa/casos/TA-2026-000001/nota", data={"texto": "otro token", "csrf": "x" * 43}
    )
    assert wrong.status_code == 403
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        assert not [e for e in uow.cases.events(case.id) if e.kind == "note"]


def test_without_a_session_pages_redirect_to_sign_in_and_files_are_refused(app, client, clock):
    report(app, clock, *POTHOLE)
    for path in ("/mesa/", "/mesa/bandeja", "/mesa/casos/TA-2026-000001", "/mesa/respuestas"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/mesa/"), path
    assert client.get("/mesa/bandeja").headers["location"].startswith("/mesa/login")
    assert client.get("/mesa/adjuntos/1").status_code in (403, 404)
    assert client.get("/mesa/bandeja/filas").status_code == 403
    assert client.post("/mesa/casos/TA-2026-000001/cerrar", data={}).status_code == 303


def test_a_session_ends_after_the_idle_time_and_at_sign_out(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    sign_in(client, ana, clock)
    assert client.get("/mesa/bandeja").status_code == 200
    clock.advance(minutes=31)
    assert client.get("/mesa/bandeja").status_code == 303
    sign_in(client, ana, clock)
    page = client.get("/mesa/bandeja")
    assert client.post("/mesa/salir", data={"csrf": csrf_of(page.text)}).status_code == 303
    assert client.get("/mesa/bandeja").status_code == 303


def test_a_deactivated_account_cannot_sign_in_and_its_session_ends(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    sign_in(client, ana, clock)
    with app.uow() as uow:
        member = uow.staff.get(ana.id)
        member.active = False
        uow.session.add(member)
        uow.commit()
    assert client.get("/mesa/bandeja").status_code == 303
    assert sign_in(client, ana, clock).status_code == 401


def test_an_agent_works_a_case_through_the_same_casework_as_the_chat(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    sign_in(client, ana, clock)
    page = client.get("/mesa/casos/TA-2026-000001")
    assert "vence el" in page.text and "faltan" in page.text
    token = csrf_of(page.text)
    folio = "/mesa/casos/TA-2026-000001"
    assert client.post(f"{folio}/tomar", data={"csrf": token}).status_code == 303
    client.post(f"{folio}/nota", data={"csrf": token, "texto": "llevar la retroexcavadora"})
    preview = client.post(f"{folio}/responder", data={"csrf": token, "texto": "Llegamos el jueves"})
    assert "Respuesta sobre su caso TA-2026-000001" in preview.text
    with app.uow() as uow:
        assert not uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=500)[-1].body.count(
            "Llegamos el jueves"
        )
    sent = client.post(
        f"{folio}/responder", data={"csrf": token, "texto": "Llegamos el jueves", "enviar": "1"}
    )
    assert sent.status_code == 303
    refused = client.post(f"{folio}/estado", data={"csrf": token, "estado": "recibido"})
    assert refused.status_code == 400
    assert (
        client.post(f"{folio}/cerrar", data={"csrf": token, "texto": "Reparado"}).status_code == 303
    )
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        kinds = [(e.actor, e.kind) for e in uow.cases.events(case.id)]
        told = [i.body for i in uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=500)]
    assert case.status == "cerrado" and case.assignee_id == ana.id
    assert ("Ana Pérez", "note") in kinds and ("Ana Pérez", "staff_reply") in kinds
    assert any("Llegamos el jueves" in body for body in told)
    assert not any("retroexcavadora" in body for body in told)
    closed = client.get(folio).text
    assert "NOTA INTERNA" in closed and "llevar la retroexcavadora" in closed


def test_a_case_waiting_for_the_citizen_reads_so_to_staff(app, client, clock):
    folio, token = an_agent_on_a_new_case(app, client, clock)
    client.post(f"{folio}/tomar", data={"csrf": token})
    asked = client.post(
        f"{folio}/pedir_info", data={"csrf": token, "texto": "¿Cuál es el número de casa?"}
    )
    assert asked.status_code == 303
    for page in (client.get(folio).text, client.get("/mesa/bandeja/filas?carpeta=mias").text):
        assert "Esperando al ciudadano" in page
        assert "de usted" not in page  # the citizen's words, not the staff's


def test_citizen_text_is_shown_as_text(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    lines = list(POTHOLE)
    lines[3] = "<img src=x onerror=alert(1)> hay un hoyo enorme en la calle principal"
    report(app, clock, *lines)
    sign_in(client, ana, clock)
    for path in ("/mesa/casos/TA-2026-000001", "/mesa/bandeja?q=hoyo"):
        page = client.get(path).text
        assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in client.get("/mesa/casos/TA-2026-000001").text


def anonymous_denuncia(app, clock) -> str:
    """A named report, then an anonymous denuncia from the same WhatsApp number, through the
    dialogue; the denuncia's folio."""
    citizen = report(app, clock, *POTHOLE)
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", CITIZEN_NUMBER, clock())
        contact.name = CITIZEN_NAME
        uow.session.add(contact)
        uow.commit()
    receipt = citizen.converse(
        "1",
        "denuncio que el contratista cobra para adelantar la obra del puente",
        "listo",
        "si",
        "Apopa, colonia Popotlán",
        "1",
    )
    assert "denuncia anónima" in receipt
    with app.uow() as uow:
        (case,) = [c for c in uow.cases.queue(("recibido",)) if c.anonymous]
        return case.folio


def test_an_anonymous_denuncia_shows_no_identifier_and_its_opening_is_audited(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    folio = anonymous_denuncia(app, clock)
    sign_in(client, ana, clock)
    page = client.get(f"/mesa/casos/{folio}")
    assert page.status_code == 200 and "contratista" in page.text
    for identifier in (CITIZEN_NUMBER, CITIZEN_NUMBER[1:], "Rigoberta", "Menchú"):
        assert identifier not in page.text
    queue = client.get("/mesa/bandeja").text
    assert folio in queue and CITIZEN_NUMBER not in queue and "Rigoberta" not in queue
    with app.uow() as uow:
        case = uow.cases.by_folio(folio)
        entries = list(
            uow.session.exec(select(AuditEntry).where(AuditEntry.action == "opened_anonymous"))
        )
    assert [(e.staff_id, e.case_id) for e in entries] == [(ana.id, case.id)]


def stored_photo(app, tmp_path: Path, folio: str) -> int:
    directory = Path(app.settings.media.directory).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "foto.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0 not quite a jpeg")
    with app.uow() as uow:
        case = uow.cases.by_folio(folio)
        message = [m for m in uow.messages.for_case(case.id) if m.direction == "in"][0]
        attachment = Attachment(
            message_id=message.id,
            case_id=case.id,
            kind="photo",
            provider_ref="",
            content_type="image/jpeg",
            local_path=str(path),
            status="stored",
            created_at=TUESDAY,
        )
        uow.session.add(attachment)
        uow.commit()
        return attachment.id


@pytest.fixture
def media_app(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app.settings.media, "directory", str(tmp_path / "media"))
    return app


def in_santa_ana(app, member: Staff) -> None:
    """The member works in a regional team of another municipality than the reports'."""
    with app.uow() as uow:
        team = uow.desk.add_team(
            Team(name="Oficina de Santa Ana", topics=[], municipalities=["Santa Ana"])
        )
        uow.desk.join_team(team.id, member.id)
        uow.commit()


def test_attachments_are_served_only_to_staff_who_may_see_the_case(
    media_app, client, clock, tmp_path
):
    app = media_app
    ana = make_account(app, "Ana Pérez", "ana")
    luis = make_account(app, "Luis Gómez", "luis")
    report(app, clock, *POTHOLE)
    attachment_id = stored_photo(app, tmp_path, "TA-2026-000001")
    assert client.get(f"/mesa/adjuntos/{attachment_id}").status_code == 403
    sign_in(client, ana, clock)
    shown = client.get(f"/mesa/adjuntos/{attachment_id}")
    assert shown.status_code == 200 and shown.headers["content-type"] == "image/jpeg"
    assert f'src="/mesa/adjuntos/{attachment_id}"' in client.get("/mesa/casos/TA-2026-000001").text
    assert client.get("/mesa/adjuntos/999999").status_code == 404
    # Luis works in a regional team of another municipality: the case is not his to see.
    in_santa_ana(app, luis)
    client.cookies.clear()
    sign_in(client, luis, clock)
    assert client.get(f"/mesa/adjuntos/{attachment_id}").status_code == 404
    assert client.get("/mesa/casos/TA-2026-000001").status_code == 404
    assert "TA-2026-000001" not in client.get("/mesa/bandeja").text


def test_staff_download_a_cases_documents_only_when_they_may_see_the_case(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    luis = make_account(app, "Luis Gómez", "luis")
    report(app, clock, *POTHOLE)
    constancia = "/mesa/casos/TA-2026-000001/documentos/constancia.pdf"
    assert client.get(constancia).status_code == 403  # no session
    sign_in(client, ana, clock)
    assert f'href="{constancia}"' in client.get("/mesa/casos/TA-2026-000001").text
    got = client.get(constancia)
    assert got.status_code == 200 and got.headers["content-type"] == "application/pdf"
    assert 'filename="constancia-TA-2026-000001.pdf"' in got.headers["content-disposition"]
    text = pdf_text(got.content)
    assert "Constancia de recepción" in text and "TA-2026-000001" in text
    assert "martes 08/12/2026 (15 días hábiles)" in text
    solicitud = client.get("/mesa/casos/TA-2026-000001/documentos/solicitud.pdf")
    assert solicitud.status_code == 200 and "Firma:" in pdf_text(solicitud.content)
    with app.uow() as uow:
        audit = uow.desk.audit_entries(case_id=uow.cases.by_folio("TA-2026-000001").id)
        assert [e.action for e in audit].count("downloaded_document") == 2
    for other in ("otro.pdf", "constancia", "../constancia.pdf"):
        assert client.get(f"/mesa/casos/TA-2026-000001/documentos/{other}").status_code == 404
    assert client.get("/mesa/casos/TA-2026-000099/documentos/constancia.pdf").status_code == 404
    # Luis works in a regional team of another municipality: not his case, not its documents.
    in_santa_ana(app, luis)
    sign_in(client, luis, clock)
    assert client.get(constancia).status_code == 404


def test_saved_replies_are_kept_by_supervisors_and_filled_in_for_a_case(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    sara = make_account(app, "Sara Ruiz", "sara", role="supervisor")
    report(app, clock, *POTHOLE)
    sign_in(client, ana, clock)
    page = client.get("/mesa/respuestas")
    refused = client.post(
        "/mesa/respuestas", data={"csrf": csrf_of(page.text), "titulo": "x", "texto": "y"}
    )
    assert refused.status_code == 403
    client.cookies.clear()
    sign_in(client, sara, clock)
    token = csrf_of(client.get("/mesa/respuestas").text)
    body = "Su caso {folio} vence el {fecha_limite}. {institucion}"
    saved = client.post("/mesa/respuestas", data={"csrf": token, "titulo": "Plazo", "texto": body})
    assert saved.status_code == 303
    with app.uow() as uow:
        reply_id = uow.desk.saved_replies()[0].id
        # Text that later goes to citizens: who added it is in the audit log.
        (added,) = [e for e in uow.desk.audit_entries() if e.action == "saved_reply_added"]
        assert (added.staff_id, added.detail) == (sara.id, "Plazo")
    filled = client.post(
        "/mesa/casos/TA-2026-000001/insertar", data={"csrf": token, "guardada": str(reply_id)}
    )
    assert "Su caso TA-2026-000001 vence el" in filled.text
    assert app.policy.institution.name in filled.text


def test_a_duplicate_is_discarded_and_linked_to_the_original(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    report(app, clock, *POTHOLE, address="+50370008888")
    sign_in(client, ana, clock)
    token = csrf_of(client.get("/mesa/casos/TA-2026-000002").text)
    marked = client.post(
        "/mesa/casos/TA-2026-000002/duplicado", data={"csrf": token, "original": "ta-2026-1"}
    )
    assert marked.status_code == 303
    with app.uow() as uow:
        duplicate = uow.cases.by_folio("TA-2026-000002")
        original = uow.cases.by_folio("TA-2026-000001")
        linked = [e.note for e in uow.cases.events(original.id) if e.kind == "duplicate_linked"]
    assert duplicate.status == "descartado" and original.status == "recibido"
    assert linked == ["TA-2026-000002"]


def test_bulk_assignment_assigns_every_case_marked(app, client, clock):
    sara = make_account(app, "Sara Ruiz", "sara", role="supervisor")
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    report(app, clock, *POTHOLE, address="+50370008888")
    sign_in(client, sara, clock)
    token = csrf_of(client.get("/mesa/bandeja").text)
    done = client.post(
        "/mesa/bandeja/lote",
        data={
            "csrf": token,
            "accion": "asignar",
            "personal": str(ana.id),
            "folios[]": ["TA-2026-000001", "TA-2026-000002"],
        },
    )
    assert done.status_code == 303
    with app.uow() as uow:
        assert {
            uow.cases.by_folio(f).assignee_id for f in ("TA-2026-000001", "TA-2026-000002")
        } == {ana.id}


def test_an_agent_cannot_open_informes_or_personal_and_a_supervisor_only_informes(
    app, client, clock
):
    ana = make_account(app, "Ana Pérez", "ana")
    sara = make_account(app, "Sara Ruiz", "sara", role="supervisor")
    marta = make_account(app, "Marta Ríos", "marta", role="admin")
    report(app, clock, *POTHOLE)
    for path in ("/mesa/informes", "/mesa/personal", "/mesa/informes/descarga?formato=csv"):
        assert client.get(path).status_code in (303, 403), path
    assert client.get("/mesa/informes/descarga?formato=csv").status_code == 403
    sign_in(client, ana, clock)
    for path in ("/mesa/informes", "/mesa/personal", "/mesa/informes/descarga?formato=csv"):
        assert client.get(path).status_code == 403, path
    assert 'href="/mesa/informes"' not in client.get("/mesa/bandeja").text
    sign_in(client, sara, clock)
    reports = client.get("/mesa/informes?periodo=2026-T4")
    assert reports.status_code == 200 and "data:image/png;base64," in reports.text
    assert "Los casos de prueba escritos en la consola (make run) no se cuentan" in reports.text
    download = client.get("/mesa/informes/descarga?periodo=2026-T4&formato=json")
    assert download.status_code == 200 and download.json()["received"]["total"] >= 0
    assert client.get("/mesa/personal").status_code == 403
    sign_in(client, marta, clock)
    staff = client.get("/mesa/personal")
    assert (
        staff.status_code == 200 and "Ana Pérez" in staff.text and "entró a la mesa" in staff.text
    )


def test_an_administrator_resets_a_second_factor_and_the_sessions_end(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    marta = make_account(app, "Marta Ríos", "marta", role="admin")
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, ana, clock)
    assert other.get("/mesa/bandeja").status_code == 200
    sign_in(client, marta, clock)
    token = csrf_of(client.get("/mesa/personal").text)
    reset = client.post(f"/mesa/personal/{ana.id}/segundo-factor", data={"csrf": token})
    assert reset.status_code == 303
    assert other.get("/mesa/bandeja").status_code == 303
    refused = sign_in(other, ana, clock)
    assert refused.status_code == 401 and "segundo factor" in refused.text


def test_the_mapa_shows_the_open_cases_with_a_pin_to_those_who_may_see_them(
    app, client, clock, monkeypatch
):
    monkeypatch.setattr(
        app.settings.desk, "map_tiles_url", "https://{s}.tiles.example/{z}/{x}/{y}.png"
    )
    ana = make_account(app, "Ana Pérez", "ana")
    luis = make_account(app, "Luis Gómez", "luis")
    report(app, clock, *POTHOLE)
    report(app, clock, *POTHOLE, address="+50370008888")
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        case.latitude, case.longitude = 13.4833, -88.1833
        uow.session.add(case)
        office = uow.desk.add_team(Team(name="Santa Ana", topics=[], municipalities=["Santa Ana"]))
        uow.desk.join_team(office.id, luis.id)
        uow.commit()
    assert client.get("/mesa/mapa/puntos").status_code == 403
    sign_in(client, ana, clock)
    page = client.get("/mesa/mapa")
    assert page.status_code == 200 and "13.48330, -88.18330" in page.text
    assert "1 caso abierto con ubicación (los mismos filtros" in page.text
    assert "https://*.tiles.example" in page.headers["content-security-policy"]
    points = client.get("/mesa/mapa/puntos?carpeta=todas").json()
    assert [p["folio"] for p in points] == ["TA-2026-000001"]
    assert client.get("/mesa/static/leaflet/leaflet.js").status_code == 200
    sign_in(client, luis, clock)
    assert client.get("/mesa/mapa/puntos").json() == []


def test_an_administrator_deactivates_and_activates_an_account_from_personal(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    marta = make_account(app, "Marta Ríos", "marta", role="admin")
    other = TestClient(client.app, follow_redirects=False)
    sign_in(other, ana, clock)
    sign_in(client, marta, clock)
    token = csrf_of(client.get("/mesa/personal").text)
    assert client.post(f"/mesa/personal/{ana.id}/desactivar").status_code == 403
    off = client.post(f"/mesa/personal/{ana.id}/desactivar", data={"csrf": token})
    assert off.status_code == 303 and "hecho=personal_desactivar" in off.headers["location"]
    assert other.get("/mesa/bandeja").status_code == 303
    assert sign_in(other, ana, clock).status_code != 303
    again = client.post(f"/mesa/personal/{ana.id}/desactivar", data={"csrf": token})
    assert again.status_code == 409 and "Ana Pérez" in again.text
    on = client.post(f"/mesa/personal/{ana.id}/activar", data={"csrf": token})
    assert on.status_code == 303
    clock.advance(minutes=1)
    assert sign_in(other, ana, clock).status_code == 303
    with app.uow() as uow:
        actions = [e.action for e in uow.desk.audit_entries(limit=50) if e.staff_id == marta.id]
    assert {"staff_deactivated", "staff_activated"} <= set(actions)


def test_an_administrator_changes_a_role_and_unbinds_a_chat_and_an_agent_cannot(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    marta = make_account(app, "Marta Ríos", "marta", role="admin")
    with app.uow() as uow:
        row = uow.staff.get(ana.id)
        row.telegram_id, row.whatsapp = 4242, "+50370009999"
        uow.session.add(row)
        uow.commit()
    agent = TestClient(client.app, follow_redirects=False)
    sign_in(agent, ana, clock)
    agent_token = csrf_of(agent.get("/mesa/bandeja").text)
    refused = agent.post(f"/mesa/personal/{ana.id}/rol", data={"csrf": agent_token, "rol": "admin"})
    assert refused.status_code == 403
    sign_in(client, marta, clock)
    page = client.get("/mesa/personal").text
    assert "Desvincular Telegram" in page and "Cambiar rol" in page
    token = csrf_of(page)
    role = client.post(f"/mesa/personal/{ana.id}/rol", data={"csrf": token, "rol": "supervisor"})
    assert role.status_code == 303
    unbound = client.post(
        f"/mesa/personal/{ana.id}/desvincular", data={"csrf": token, "telegram": "1"}
    )
    assert unbound.status_code == 303
    with app.uow() as uow:
        row = uow.staff.get(ana.id)
        assert (row.role, row.telegram_id, row.whatsapp) == ("supervisor", None, "+50370009999")
        entries = {(e.action, e.detail) for e in uow.desk.audit_entries(limit=50)}
    assert ("staff_role_changed", "Ana Pérez: supervisor") in entries
    assert ("staff_unbound", "Ana Pérez: Telegram") in entries
    assert "cambió el rol de" in client.get("/mesa/personal").text
    assert client.post("/mesa/personal/999/activar", data={"csrf": token}).status_code == 404


def test_an_address_the_desk_does_not_have_says_so_in_spanish(client):
    for path in ("/mesa/noexiste", "/mesa/caso/TA-2026-000001"):
        missing = client.get(path)
        assert missing.status_code == 404 and "no existe en la mesa" in missing.text


def test_an_anonymous_case_kept_to_the_day_shows_its_date_without_an_hour_everywhere(
    app, client, clock
):
    """Its times are kept to the day on purpose (docs/privacy.md): staff read "17/11/2026", not a
    made-up "17/11/2026 00:00"; what staff do on it later keeps its hour."""
    from typer.testing import CliRunner

    from bot.cli import CliContext, build_cli
    from handlers.core.texts import load_texts
    from tests.helpers import add_staff

    ana = make_account(app, "Ana Pérez", "ana")
    folio = anonymous_denuncia(app, clock)
    add_staff(app.uow, "Beto", telegram_id=4242)
    beto = Citizen(app.dialogue, app.uow, address="4242", channel="telegram", clock=clock)
    beto.send(f"/nota {folio} revisar el almacén")  # 17/11/2026 09:00 in El Salvador
    sign_in(client, ana, clock)
    page = client.get(f"/mesa/casos/{folio}").text
    chat = beto.send(f"/caso {folio}")

    def terminal(*args: str) -> str:
        env = {"TA_DATABASE__URL": app.settings.database.url, "TA_CONFIG": ""}
        cli, obj = build_cli(load_texts()), CliContext(clock=clock)
        return CliRunner().invoke(cli, ["cases", *args], env=env, obj=obj).output

    shown, listed = terminal("show", folio), terminal("list")
    for where, text in (("desk", page), ("chat", chat), ("show", shown), ("list", listed)):
        assert "17/11/2026" in text and "00:00" not in text, where
    assert "<dd>17/11/2026</dd>" in page
    assert "  Recibido: 17/11/2026\n" in shown
    assert "17/11/2026 09:00 Ana" not in shown and "17/11/2026 09:00 Beto: Nota interna" in shown
    assert "17/11/2026 09:00 Beto" in chat


def test_a_pin_without_words_says_so_in_the_timeline_not_an_empty_entry(app, client, clock):
    from handlers.core.messages import Location

    ana = make_account(app, "Ana Pérez", "ana")
    bleeding = "se cayó el puente peatonal y hay un señor sangrando, no se puede mover"
    citizen = report(app, clock, "hola", "si", "1", bleeding, "si")  # an emergency: where?
    citizen.send(location=Location(13.69294, -89.21819))
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        assert case.latitude == 13.69294
        assert [m for m in uow.messages.for_case(case.id) if m.direction == "in" and not m.body]
    sign_in(client, ana, clock)
    page = client.get("/mesa/casos/TA-2026-000001").text
    assert "(sin texto: una ubicación, un archivo u otro contenido)" in page


@pytest.mark.parametrize(
    ("latitude", "longitude", "municipality"),
    [(13.69294, -89.21819, "San Salvador Centro"), (13.0, -90.5, None)],  # a town; at sea
)
def test_a_case_placed_only_by_a_pin_does_not_say_it_has_no_place(
    app, client, clock, latitude, longitude, municipality
):
    from handlers.core.messages import Location

    ana = make_account(app, "Ana Pérez", "ana")
    citizen = report(app, clock, "hola", "si", "1", "la calle principal tiene un hoyo enorme")
    citizen.send(location=Location(latitude, longitude))
    citizen.converse("listo", "si", "omitir")
    sign_in(client, ana, clock)
    page = client.get("/mesa/casos/TA-2026-000001").text
    place = page[page.index('id="lugar"') : page.index('id="descripcion"')]
    assert "Sin lugar indicado" not in place
    assert f"Ubicación enviada: {latitude:.5f}, {longitude:.5f}" in place
    if municipality:
        assert f"<p>{municipality}</p>" in place


def test_a_case_with_no_place_at_all_says_so(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, "hola", "si", "1", "la calle principal tiene un hoyo enorme")
    report(app, clock, "listo", "si", "omitir", "omitir")
    sign_in(client, ana, clock)
    page = client.get("/mesa/casos/TA-2026-000001").text
    assert "Sin lugar indicado" in page[page.index('id="lugar"') : page.index('id="descripcion"')]


def test_the_timeline_tells_what_went_to_the_citizen_from_what_went_to_staff(app, client, clock):
    from tests.helpers import add_staff

    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    folio = "TA-2026-000001"
    add_staff(app.uow, "Beto", telegram_id=4242)
    beto = Citizen(app.dialogue, app.uow, address="4242", channel="telegram", clock=clock)
    beto.send(f"/tomar {folio}")  # Beto gets the case's card back: for staff only
    beto.send(f"/responder {folio} Mañana pasa la cuadrilla")
    sign_in(client, ana, clock)
    page = client.get(f"/mesa/casos/{folio}").text
    entries = re.findall(
        r'<li class="entry-(\w+)">\s*<p class="meta">.*?<strong>(.*?)</strong>', page
    )
    # Nothing is sending here (no dispatcher): what is for the citizen is said to be not sent.
    to_citizen = [who for kind, who in entries if kind == "to_send"]
    to_staff = [who for kind, who in entries if kind == "staff"]
    assert to_citizen and set(to_citizen) == {"Para el ciudadano"}
    assert not [kind for kind, _ in entries if kind == "sent"]
    assert to_staff and set(to_staff) == {"Aviso al personal"}
    card = page.index("Beto tomó el caso")
    assert "Aviso al personal" in page[page.rindex("<li", 0, card) : card]
    answer = page.index("Mañana pasa la cuadrilla")
    entry = page[page.rindex("<li", 0, answer) : answer]
    assert "Para el ciudadano" in entry and "por enviar: todavía no le llega" in entry
    with app.uow() as uow:  # as the dispatcher records it once the provider took it
        queued = uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=500)
        for n, item in enumerate(queued):
            uow.outbox.mark_sent(item, f"SM{n}", clock())
        uow.commit()
    page = client.get(f"/mesa/casos/{folio}").text
    answer = page.index("Mañana pasa la cuadrilla")
    entry = page[page.rindex("<li", 0, answer) : answer]
    assert "Enviado al ciudadano" in entry and "mensaje enviado" in entry
    with app.uow() as uow:
        sent = uow.messages.for_case(uow.cases.by_folio(folio).id)
        assert {
            (m.body.startswith("✅ Beto tomó"), m.to_staff) for m in sent if m.direction == "out"
        } == {
            (True, True),
            (False, False),
        }


def test_a_reply_to_a_closed_case_from_the_desk_warns_and_needs_the_box_ticked(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    folio = "/mesa/casos/TA-2026-000001"
    sign_in(client, ana, clock)
    token = csrf_of(client.get(folio).text)
    client.post(f"{folio}/cerrar", data={"csrf": token, "texto": "Bache reparado"})
    page = client.get(folio).text
    assert "Este caso está cerrado: el aviso del cierre ya salió hacia el ciudadano" in page
    assert 'name="cerrado" value="1" required' in page

    def sent() -> list[str]:
        with app.uow() as uow:
            items = uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=500)
            return [item.body for item in items if "Pasamos otra vez" in item.body]

    unticked = client.post(
        f"{folio}/responder", data={"csrf": token, "texto": "Pasamos otra vez", "enviar": "1"}
    )
    assert "está cerrado" in unticked.text and sent() == []
    ticked = client.post(
        f"{folio}/responder",
        data={"csrf": token, "texto": "Pasamos otra vez", "enviar": "1", "cerrado": "1"},
    )
    assert ticked.status_code == 303 and len(sent()) == 1
    assert "Cerrado" in client.get(folio).text


def test_commitments_are_made_met_and_moved_from_the_case_page_and_listed_overdue_first(
    app, client, clock
):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    sign_in(client, ana, clock)
    folio = "/mesa/casos/TA-2026-000001"
    page = client.get(folio)
    assert "Este caso no tiene compromisos." in page.text
    token = csrf_of(page.text)
    for what, day in (("limpiar el tragante", "2026-11-18"), ("reponer la tapadera", "2026-12-15")):
        made = client.post(f"{folio}/compromiso", data={"csrf": token, "texto": what, "fecha": day})
        assert made.status_code == 303
    refused = client.post(
        f"{folio}/compromiso", data={"csrf": token, "texto": "algo", "fecha": "2026-01-01"}
    )
    assert refused.status_code == 400 and "ya pasó" in refused.text
    moved = client.post(
        f"{folio}/compromiso_mover",
        data={"csrf": token, "numero": "2", "fecha": "2026-12-20", "texto": "falta material"},
    )
    assert moved.status_code == 303
    clock.advance(days=3)  # Friday 20 November: the first one is overdue
    sign_in(client, ana, clock)
    token = csrf_of(client.get(folio).text)
    listed = client.get("/mesa/compromisos").text
    assert "Pendientes: 2; vencidos: 1, que van primero." in listed
    assert listed.index("limpiar el tragante") < listed.index("reponer la tapadera")
    assert "Vencido" in listed and "falta material" in listed
    met = client.post(f"{folio}/compromiso_cumplido", data={"csrf": token, "numero": "1"})
    assert met.status_code == 303
    shown = client.get(folio).text
    assert "Cumplido" in shown and "Compromiso cumplido" in shown
    with app.uow() as uow:
        told = [i.body for i in uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=500)]
    assert any("nos comprometemos a: limpiar el tragante" in body for body in told)
    assert any("ahora es el domingo 20/12/2026" in body for body in told)
    assert any("Cumplimos el compromiso" in body for body in told)


def test_a_commitment_is_cancelled_from_the_case_page_and_the_citizen_told_why(app, client, clock):
    folio, token = an_agent_on_a_new_case(app, client, clock)
    data = {"csrf": token, "texto": "podar el árbol", "fecha": "2026-12-15"}
    assert client.post(f"{folio}/compromiso", data=data).status_code == 303
    assert "Cancelar el compromiso" in client.get(folio).text
    cancelled = client.post(
        f"{folio}/compromiso_cancelar",
        data={"csrf": token, "numero": "1", "texto": "la alcaldía ya lo hizo"},
    )
    assert cancelled.status_code == 303
    shown = client.get(folio).text
    assert "Cancelado" in shown and "Cancelar el compromiso" not in shown
    with app.uow() as uow:
        told = [i.body for i in uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=500)]
    assert any("se canceló.\nMotivo: la alcaldía ya lo hizo" in body for body in told)
    nameless = client.post(f"{folio}/compromiso_cumplido", data={"csrf": token})
    assert nameless.status_code == 400 and "Indique el número del compromiso." in nameless.text


def test_the_status_form_starts_on_no_status_and_says_when_the_reason_reaches_the_citizen(
    app, client, clock
):
    folio, token = an_agent_on_a_new_case(app, client, clock)
    assert f'action="{folio}/tomar"' in client.get(folio).text
    client.post(f"{folio}/tomar", data={"csrf": token})
    page = client.get(folio).text
    assert f'action="{folio}/tomar"' not in page  # hers now: nothing to take
    form = page[page.index(f'action="{folio}/estado"') :]
    choices = re.findall(r"<option ([^>]*)>([^<]*)</option>", form[: form.index("</select>")])
    # Nothing is chosen for her: «Cambiar estado» with the first status would have closed it.
    assert choices[0] == ('value="" selected disabled', "— elija el estado —")
    assert not any("selected" in attributes for attributes, _ in choices[1:])
    assert "El motivo se le envía a la persona cuando el caso pasa a Esperando" in page
    unchosen = client.post(f"{folio}/estado", data={"csrf": token, "estado": "", "texto": "x"})
    assert unchosen.status_code == 400
    with app.uow() as uow:
        assert uow.cases.by_folio("TA-2026-000001").status == "asignado"


def test_an_emergency_offers_no_extension_by_days_and_says_why(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    bleeding = "se cayó el puente peatonal y hay un señor sangrando, no se puede mover"
    report(app, clock, "hola", "si", "1", bleeding, "si", "San Miguel, colonia Las Brisas")
    sign_in(client, ana, clock)
    page = client.get("/mesa/casos/TA-2026-000001").text
    assert "EMERGENCIA" in page
    assert 'action="/mesa/casos/TA-2026-000001/prorroga"' not in page
    assert 'max="0"' not in page
    assert "es una emergencia: su plazo vence el mismo día en que se recibió" in page


def test_bulk_actions_without_a_case_marked_or_a_choice_say_what_is_missing(app, client, clock):
    sara = make_account(app, "Sara Ruiz", "sara", role="supervisor")
    report(app, clock, *POTHOLE)
    sign_in(client, sara, clock)
    token = csrf_of(client.get("/mesa/bandeja").text)
    nothing_marked = client.post(
        "/mesa/bandeja/lote", data={"csrf": token, "accion": "nota", "nota": "revisar"}
    )
    assert nothing_marked.status_code == 400
    assert "No marcó ningún caso" in nothing_marked.text
    marked = {"csrf": token, "folios[]": ["TA-2026-000001"]}
    nobody = client.post("/mesa/bandeja/lote", data={**marked, "accion": "asignar", "personal": ""})
    assert nobody.status_code == 400
    assert "Elija en «Persona» a quién asignar" in nobody.text and "«»" not in nobody.text
    no_status = client.post("/mesa/bandeja/lote", data={**marked, "accion": "estado"})
    assert "Elija en «Estado nuevo»" in no_status.text
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        assert case.assignee_id is None and case.status == "recibido"


def test_a_reclassification_reads_in_words_in_the_history(app, client, clock):
    from bot.case_views import render_case

    folio, token = an_agent_on_a_new_case(app, client, clock)
    with app.uow() as uow:
        case = uow.cases.by_folio("TA-2026-000001")
        labels = {"tipo": "queja", "tema": case.topic, "urgencia": case.urgency}
    assert client.post(f"{folio}/reclasificar", data={"csrf": token, **labels}).status_code == 303
    page = client.get(folio).text
    assert (
        "Caso reclasificado: tipo: queja (antes: solicitud); tema: calles y caminos; urgencia"
        in page
    )
    assert "previous" not in page and "{" not in page.split("Caso reclasificado")[1][:200]
    with app.uow() as uow:
        shown = render_case(app, uow, uow.cases.by_folio("TA-2026-000001"))
    assert "tipo: queja (antes: solicitud)" in shown and '"previous"' not in shown


def test_a_reply_too_long_is_refused_whole_with_its_length_and_kept_in_the_box(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    sign_in(client, ana, clock)
    folio = "/mesa/casos/TA-2026-000001"
    page = client.get(folio).text
    assert 'maxlength="2000"' not in page[page.index('id="texto-respuesta"') - 200 :][:600]
    assert "Hasta 2.000 caracteres" in page
    long = "La cuadrilla pasará el lunes. " * 100  # 3,000 characters, cut by nobody
    token = csrf_of(page)
    for step in ({}, {"enviar": "1"}):  # the preview says so, and so does sending
        refused = client.post(f"{folio}/responder", data={"csrf": token, "texto": long, **step})
        assert refused.status_code == 400
        assert "El texto tiene 2999 caracteres y el máximo es 2000" in refused.text
        assert long.strip() in refused.text  # still in the box, to shorten
    with app.uow() as uow:
        queued = uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=500)
        assert not any("La cuadrilla pasará" in item.body for item in queued)


def test_an_anonymous_reply_is_previewed_as_its_reporter_will_read_it(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana", role="supervisor")
    folio = f"/mesa/casos/{anonymous_denuncia(app, clock)}"
    sign_in(client, ana, clock)
    token = csrf_of(client.get(folio).text)
    preview = client.post(f"{folio}/responder", data={"csrf": token, "texto": "Lo revisamos"})
    assert "Respuesta del equipo: Lo revisamos" in preview.text
    assert "Respuesta sobre su caso" not in preview.text


def test_after_its_one_extension_a_case_says_so_instead_of_hiding_the_form(app, client, clock):
    folio, token = an_agent_on_a_new_case(app, client, clock)
    page = client.get(folio).text
    assert "Motivo (se le dice a la persona)" in page  # the extension's reason is told
    assert "Motivo (queda en el historial interno)" in page  # the priority's is not
    extended = client.post(
        f"{folio}/prorroga", data={"csrf": token, "dias": "5", "texto": "Falta material"}
    )
    assert extended.status_code == 303
    page = client.get(folio).text
    assert f'action="{folio}/prorroga"' not in page
    assert "El caso TA-2026-000001 ya tuvo su única prórroga." in page


def notice_of(page: str) -> str:
    found = re.search(r'<p class="notice" role="status">([^<]*)</p>', page)
    assert found, "the page has no notice"
    return found[1]


def a_walk_in(app, clock, *, name: str | None = None, phone: str | None = None) -> str:
    """A walk-in logged by staff (as `cases new --channel presencial` does); its folio."""
    from handlers.casework.actions import register_case
    from handlers.casework.lifecycle import Actor

    with app.uow() as uow:
        case = register_case(
            uow,
            app.policy,
            channel="presencial",
            case_type="solicitud",
            text="hay un hoyo grande en la calle frente a la escuela",
            actor=Actor("Beto", "agent", None),
            now=clock(),
            name=name,
            phone=phone,
        )
        uow.commit()
        return case.folio


def test_closing_a_walk_in_from_the_desk_says_nobody_was_told_and_how_to_tell_them(
    app, client, clock
):
    ana = make_account(app, "Ana Pérez", "ana")
    folio = a_walk_in(app, clock, name="Rosa Pérez")
    sign_in(client, ana, clock)
    page = f"/mesa/casos/{folio}"
    token = csrf_of(client.get(page).text)
    closed = client.post(f"{page}/cerrar", data={"csrf": token, "texto": "Se rellenó el hoyo"})
    assert closed.status_code == 303
    assert notice_of(client.get(closed.headers["location"]).text) == (
        f"📞 Caso {folio} cerrado. No tiene un chat ni un número: nadie le avisó del cierre. "
        "Comuníquelo en persona cuando Rosa Pérez se acerque o se comunique."
    )
    with app.uow() as uow:
        assert uow.cases.by_folio(folio).status == "cerrado"


def test_closing_a_chat_case_from_the_desk_just_says_it_was_closed(app, client, clock):
    folio, token = an_agent_on_a_new_case(app, client, clock)
    closed = client.post(f"{folio}/cerrar", data={"csrf": token, "texto": "Reparado"})
    assert notice_of(client.get(closed.headers["location"]).text) == "Caso cerrado."


def test_a_commitment_on_an_anonymous_case_says_the_reporter_reads_it_with_the_code(
    app, client, clock
):
    ana = make_account(app, "Ana Pérez", "ana", role="supervisor")
    folio = f"/mesa/casos/{anonymous_denuncia(app, clock)}"
    sign_in(client, ana, clock)
    token = csrf_of(client.get(folio).text)
    made = client.post(
        f"{folio}/compromiso",
        data={"csrf": token, "texto": "revisar la obra", "fecha": "2026-12-15"},
    )
    assert made.status_code == 303
    notices = [notice_of(client.get(made.headers["location"]).text)]
    for action, data in (
        ("compromiso_mover", {"numero": "1", "fecha": "2026-12-20", "texto": "falta material"}),
        ("compromiso_cumplido", {"numero": "1"}),
    ):
        done = client.post(f"{folio}/{action}", data={"csrf": token, **data})
        assert done.status_code == 303
        notices.append(notice_of(client.get(done.headers["location"]).text))
    for notice in notices:
        assert "recibe" not in notice, notice
        assert "al consultar con su código" in notice, notice


def test_the_commitment_form_of_a_walk_in_does_not_say_the_person_gets_it_by_chat(
    app, client, clock
):
    ana = make_account(app, "Ana Pérez", "ana")
    folio = a_walk_in(app, clock, name="Rosa Pérez")
    sign_in(client, ana, clock)
    page = client.get(f"/mesa/casos/{folio}").text
    assert "recibe el aviso por su chat" not in page
    assert "El caso no tiene un chat: avísele a la persona por otra vía" in page
