"""A copy of the database kept by `db backup`, and put back by `db restore`."""

import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from handlers.casework.cases import open_case
from tests.conftest import is_postgres

DRAFT = {
    "description": "hay un hoyo enorme en la calle",
    "type": "solicitud",
    "topic": "calles_caminos",
}


def a_case(app, phone: str) -> str:
    now = datetime(2026, 11, 17, 15, tzinfo=UTC)
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", phone, now)
        contact.consented_at = now
        case = open_case(uow, app.policy, contact=contact, draft=dict(DRAFT), now=now)
        uow.cases.add(case.case)
        uow.commit()
        return case.case.folio


@pytest.fixture
def db(app, monkeypatch, capsys):
    """`telefono-abierto db …` as the console script runs it: (exit status, what it printed)."""
    monkeypatch.setenv("TA_DATABASE__URL", app.settings.database.url)
    monkeypatch.setenv("TA_CONFIG", "")

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as ended:
            main(["db", *args])
        out = capsys.readouterr()
        return ended.value.code or 0, out.out + out.err

    return run


def test_a_backup_taken_while_the_service_runs_restores_what_it_held(app, db, tmp_path):
    kept = a_case(app, "+50370001111")
    copy = tmp_path / "copias" / "martes.db"
    if is_postgres(app.settings.database.url):
        status, advice = db("backup", str(copy))
        assert status == 1 and "pg_dump --format=custom" in advice
        return
    # The service holds a connection open meanwhile: the copy does not wait for it to stop.
    with app.engine.connect():
        status, made = db("backup", str(copy))
    assert status == 0 and ": 1 caso." in made and copy.exists()
    lost = a_case(app, "+50370002222")  # written after the copy

    status, checked = db("restore", str(copy))
    assert status == 1 and "--yes" in checked
    with app.uow() as uow:
        assert uow.cases.by_folio(lost) is not None  # nothing replaced without --yes

    app.engine.dispose()  # the service stopped: its connections are closed
    status, restored = db("restore", str(copy), "--yes")
    assert status == 0, restored
    with app.uow() as uow:
        assert uow.cases.by_folio(kept) is not None
        assert uow.cases.by_folio(lost) is None


def test_a_file_that_is_not_a_backup_is_refused_and_nothing_changes(app, db, tmp_path):
    if is_postgres(app.settings.database.url):
        return
    kept = a_case(app, "+50370001111")
    not_a_backup = tmp_path / "notas.db"
    not_a_backup.write_text("lista de compras")
    for nowhere in ("/proc/copia.db", str(tmp_path)):
        status, said = db("backup", nowhere)
        assert status == 1 and "No se pudo escribir" in said and "Traceback" not in said
    status, refused = db("restore", str(not_a_backup), "--yes")
    assert status == 1
    assert refused == (
        f"{not_a_backup} no es una copia válida de Teléfono Abierto: "
        "no es la copia de una base de datos SQLite\n"
    )
    with app.uow() as uow:
        assert uow.cases.by_folio(kept) is not None


def test_a_copy_is_not_put_back_under_a_running_service(app, db, tmp_path):
    """The service, still running, would go on with the file replaced under it: the restore
    waits for it to be stopped (its dispatcher beats every second while it runs)."""
    if is_postgres(app.settings.database.url):
        pytest.skip("db restore is SQLite's; PostgreSQL's copies go back with pg_restore")
    copy = tmp_path / "martes.db"
    db("backup", str(copy))
    since_the_copy = a_case(app, "+50370002222")
    with app.uow() as uow:  # the running service's heartbeat, just now
        uow.outbox.heartbeat("servicio-en-marcha", datetime.now(UTC), timedelta(seconds=5))
        uow.commit()

    status, refused = db("restore", str(copy), "--yes")
    assert status == 1 and "El servicio está en marcha" in refused
    with app.uow() as uow:
        assert uow.cases.by_folio(since_the_copy) is not None  # nothing replaced

    with app.uow() as uow:  # stopped a minute ago: its last beat is old
        a_minute_ago = datetime.now(UTC) - timedelta(minutes=1)
        uow.outbox.heartbeat("servicio-en-marcha", a_minute_ago, timedelta(seconds=5))
        uow.commit()
    app.engine.dispose()  # and closed its connections
    status, restored = db("restore", str(copy), "--yes")
    assert status == 0, restored
    with app.uow() as uow:
        assert uow.cases.by_folio(since_the_copy) is None


def test_a_backup_that_is_not_there_is_said_to_be_missing(app, db, tmp_path):
    if is_postgres(app.settings.database.url):
        return
    missing = tmp_path / "copias" / "lunes.db"
    status, refused = db("restore", str(missing), "--yes")
    assert status == 1
    assert refused == f"No existe el archivo {missing}: revise la ruta de la copia.\n"
    assert not missing.exists()  # looking did not create it


def test_a_sqlite_database_of_something_else_is_refused_as_foreign(app, db, tmp_path):
    if is_postgres(app.settings.database.url):
        return
    other = tmp_path / "agenda.db"
    with closing(sqlite3.connect(other)) as agenda:
        agenda.execute("CREATE TABLE citas (dia TEXT)")
        agenda.commit()
    status, refused = db("restore", str(other), "--yes")
    assert status == 1
    assert refused.endswith("es una base de datos SQLite, pero no de Teléfono Abierto\n")


# A service in its own process, as `telefono-abierto run` would be: it opens the database by
# the path it is given, beats once, and keeps its connections open until its input closes.
SERVICE = """
import sys
from datetime import UTC, datetime, timedelta
from bot.app import create_app
from tests.helpers import make_settings

app = create_app(make_settings(database={"url": sys.argv[1]}))
with app.uow() as uow:
    uow.outbox.heartbeat("servicio-en-marcha", datetime.now(UTC), timedelta(seconds=5))
    uow.commit()
print("en marcha", flush=True)
sys.stdin.read()
app.engine.dispose()
"""


def test_a_running_service_is_seen_through_another_name_of_its_database_file(
    app, db, tmp_path, monkeypatch
):
    """A hard link names the live file by another path: the service's recent heartbeats are
    in its write-ahead log (named after its own path), which the other name does not see.
    The file is open all the same, and the restore refuses to replace it."""
    if is_postgres(app.settings.database.url):
        pytest.skip("db restore is SQLite's; PostgreSQL's copies go back with pg_restore")
    copy = tmp_path / "martes.db"
    db("backup", str(copy))
    since_the_copy = a_case(app, "+50370002222")
    app.engine.dispose()  # only the service below has the database open
    live = make_url(app.settings.database.url).database
    other_name = tmp_path / "otro-nombre.db"
    os.link(live, other_name)
    service = subprocess.Popen(
        [sys.executable, "-c", SERVICE, app.settings.database.url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert service.stdout is not None and service.stdout.readline() == "en marcha\n"
        monkeypatch.setenv("TA_DATABASE__URL", f"sqlite:///{other_name}")
        status, refused = db("restore", str(copy), "--yes")
    finally:
        service.communicate(timeout=60)  # stopped: its connections closed

    assert status == 1, refused
    assert refused == (
        "La base de datos está abierta por otro proceso (el servicio, un chat o la mesa de "
        "atención): deténgalo y repita db restore. Mientras la tenga abierta, seguiría "
        "trabajando con la base que se reemplaza.\n"
    )
    with app.uow() as uow:
        assert uow.cases.by_folio(since_the_copy) is not None  # nothing replaced
    app.engine.dispose()
    status, restored = db("restore", str(copy), "--yes")
    assert status == 1 and "El servicio está en marcha" in restored  # its last beat is recent
