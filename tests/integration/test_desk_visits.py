"""Field visits on the web desk, on SQLite and PostgreSQL: proposed from the case page, listed
in Visitas with women's cases first, recorded done, and downloaded as a calendar that names
no citizen."""

# ruff: noqa: F811 (the desk tests' fixtures, imported as arguments)
from __future__ import annotations

import io
from datetime import UTC, datetime

from tests.helpers import POTHOLE
from tests.integration.test_desk import (  # noqa: F401 (fixtures)
    CITIZEN_NUMBER,
    client,
    clock,
    csrf_of,
    make_account,
    media_app,
    report,
    sign_in,
)

FOLIO = "TA-2026-000001"


def jpeg() -> bytes:
    """A small real JPEG, as a phone's camera would send."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 90, 60)).save(out, format="JPEG")
    return out.getvalue()


def test_a_visit_proposed_on_the_desk_is_listed_done_and_exported(
    media_app,
    app,
    client,
    clock,
):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    sign_in(client, ana, clock)
    page = client.get(f"/mesa/casos/{FOLIO}")
    assert "Proponer una visita" in page.text
    token = csrf_of(page.text)
    form = {
        "csrf": token,
        "fecha": "2026-11-19",
        "desde": "09:00",
        "hasta": "11:00",
        "quien": "Ing. Pérez",
    }
    proposed = client.post(f"/mesa/casos/{FOLIO}/visita", data=form)
    assert proposed.status_code == 303
    with app.uow() as uow:
        told = [i.body for i in uow.outbox.pending("whatsapp", address=CITIZEN_NUMBER, limit=50)]
    assert any("le proponemos una visita técnica" in body for body in told)
    # A second one waits for the first.
    again = client.post(f"/mesa/casos/{FOLIO}/visita", data=form)
    assert again.status_code == 400 and "ya tiene la visita #1 pendiente" in again.text

    marked = client.post(f"/mesa/casos/{FOLIO}/mujeres", data={"csrf": token, "mujeres": "si"})
    assert marked.status_code == 303
    listed = client.get("/mesa/visitas")
    assert listed.status_code == 200
    assert FOLIO in listed.text and "jueves 19/11/2026 de 09:00 a 11:00" in listed.text
    assert "♀" in listed.text and "Ing. Pérez" in listed.text

    calendar = client.get("/mesa/visitas.ics")
    assert calendar.status_code == 200
    assert calendar.headers["content-type"].startswith("text/calendar")
    text = calendar.text.replace("\r\n ", "")
    assert "SUMMARY:Visita TA-2026-000001 (#1)" in text and "DTSTART:20261119T150000Z" in text
    assert "70009999" not in text and "Rigoberta" not in text

    clock.now = datetime(2026, 11, 19, 15, 30, tzinfo=UTC)  # the visit's day
    sign_in(client, ana, clock)
    token = csrf_of(client.get(f"/mesa/casos/{FOLIO}").text)
    done = client.post(
        f"/mesa/casos/{FOLIO}/visita_hecha",
        data={"csrf": token, "visita": "1", "texto": "Se midió el hoyo", "proximo": "Bacheo"},
    )
    assert done.status_code == 303
    shown = client.get(f"/mesa/casos/{FOLIO}").text
    assert "Realizada" in shown or "realizada" in shown
    assert "Se midió el hoyo" in shown and "Próximo paso: Bacheo" in shown
    assert FOLIO not in client.get("/mesa/visitas").text  # done: no longer pending
    assert FOLIO in client.get("/mesa/visitas?todas=1").text

    # A photo of the visit, attached on the desk, joins the case as the staff member's.
    attached = client.post(
        f"/mesa/casos/{FOLIO}/visita_foto",
        data={"csrf": token, "visita": "1"},
        files={"foto": ("hoyo.jpg", jpeg(), "image/jpeg")},
    )
    assert attached.status_code == 303, attached.text
    shown = client.get(f"/mesa/casos/{FOLIO}").text
    assert "Foto de la visita de campo" in shown and "/mesa/adjuntos/" in shown
    assert "foto o mensaje del personal" in shown
    not_a_photo = client.post(
        f"/mesa/casos/{FOLIO}/visita_foto",
        data={"csrf": token, "visita": "1"},
        files={"foto": ("notas.txt", b"solo texto", "image/jpeg")},
    )
    assert not_a_photo.status_code == 400 and "Adjunte una foto JPEG" in not_a_photo.text


def test_a_visit_of_another_case_cannot_be_changed_from_this_one(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    report(app, clock, *POTHOLE, address="+50370002222")
    sign_in(client, ana, clock)
    token = csrf_of(client.get(f"/mesa/casos/{FOLIO}").text)
    form = {"csrf": token, "fecha": "2026-11-19", "desde": "09:00", "hasta": "11:00"}
    assert client.post(f"/mesa/casos/{FOLIO}/visita", data=form).status_code == 303
    refused = client.post(
        "/mesa/casos/TA-2026-000002/visita_cancelar",
        data={"csrf": token, "visita": "1", "texto": "lluvia"},
    )
    assert refused.status_code == 400 and "Esa visita no es de este caso." in refused.text


def test_the_commitment_form_offers_only_visits_that_can_carry_one(app, client, clock):
    ana = make_account(app, "Ana Pérez", "ana")
    report(app, clock, *POTHOLE)
    sign_in(client, ana, clock)
    token = csrf_of(client.get(f"/mesa/casos/{FOLIO}").text)
    form = {"csrf": token, "fecha": "2026-11-19", "desde": "09:00", "hasta": "11:00"}
    assert client.post(f"/mesa/casos/{FOLIO}/visita", data=form).status_code == 303
    assert '<option value="1">#1 ·' in client.get(f"/mesa/casos/{FOLIO}").text
    cancelled = client.post(
        f"/mesa/casos/{FOLIO}/visita_cancelar",
        data={"csrf": token, "visita": "1", "texto": "lluvia"},
    )
    assert cancelled.status_code == 303
    form["fecha"] = "2026-11-20"
    assert client.post(f"/mesa/casos/{FOLIO}/visita", data=form).status_code == 303
    page = client.get(f"/mesa/casos/{FOLIO}").text
    assert '<option value="2">#2 ·' in page and '<option value="1">#1 ·' not in page
