"""A copy of the database kept by `db backup`, and put back by `db restore`."""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
import urllib.request
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.app import create_app
from bot.cli import main
from handlers.casework.cases import open_case
from storage.backup import backup_sqlite
from tests.conftest import is_postgres
from tests.helpers import HASH_SECRET, make_settings

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
# the path it is given, beats once (unless told "sin-latido", as a console chat, which does not
# beat), and keeps its connections open until its input closes.
SERVICE = """
import sys
from datetime import UTC, datetime, timedelta
from bot.app import create_app
from tests.helpers import make_settings

app = create_app(make_settings(database={"url": sys.argv[1]}))
with app.uow() as uow:
    if sys.argv[2:] == ["sin-latido"]:
        uow.cases.by_folio("TA-2026-000001")  # reads, and so has the file open
    else:
        uow.outbox.heartbeat("servicio-en-marcha", datetime.now(UTC), timedelta(seconds=5))
    uow.commit()
print("en marcha", flush=True)
sys.stdin.read()
app.engine.dispose()
"""


def test_a_database_open_in_another_process_is_not_replaced_by_any_of_its_names(
    app, db, tmp_path, monkeypatch
):
    """A process with the file open (a console chat: no heartbeat) holds SQLite's shared lock
    on it: the restore refuses to replace it under that process. By another name of the file (a
    hard link) it refuses before opening anything: that name's own write-ahead log would not
    see what the process wrote in the log of the first, and would be left beside the link."""
    if is_postgres(app.settings.database.url):
        pytest.skip("db restore is SQLite's; PostgreSQL's copies go back with pg_restore")
    copy = tmp_path / "martes.db"
    db("backup", str(copy))
    since_the_copy = a_case(app, "+50370002222")
    app.engine.dispose()  # only the process below has the database open
    live = make_url(app.settings.database.url).database
    other_name = tmp_path / "otro-nombre.db"
    os.link(live, other_name)
    chat = subprocess.Popen(
        [sys.executable, "-c", SERVICE, app.settings.database.url, "sin-latido"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert chat.stdout is not None and chat.stdout.readline() == "en marcha\n"
        monkeypatch.setenv("TA_DATABASE__URL", f"sqlite:///{other_name}")
        by_the_link = db("restore", str(copy), "--yes")
        other_name.unlink()
        monkeypatch.setenv("TA_DATABASE__URL", app.settings.database.url)
        by_its_name = db("restore", str(copy), "--yes")
    finally:
        chat.communicate(timeout=60)  # stopped: its connections closed

    assert by_the_link == (
        1,
        f"La base de datos {other_name} tiene otro nombre en el disco (un "
        "enlace duro): db restore no la reemplaza, porque lo escrito con el otro nombre podría "
        "volver a aplicarse encima de la copia. Deje un solo nombre (borre el enlace que sobra) "
        "y repita db restore.\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("otro")) == []
    assert by_its_name == (
        1,
        (
            "La base de datos está abierta por otro proceso (el servicio, un chat o la mesa de "
            "atención): deténgalo y repita db restore. Mientras la tenga abierta, seguiría "
            "trabajando con la base que se reemplaza.\n"
        ),
    )
    with app.uow() as uow:
        assert uow.cases.by_folio(since_the_copy) is not None  # nothing replaced
    app.engine.dispose()
    status, restored = db("restore", str(copy), "--yes")
    assert status == 0, restored


def telefono(*args: str, env: dict, cwd, timeout: float = 60) -> subprocess.CompletedProcess:
    """The console script in its own process: what it printed and its exit status."""
    command = [str(Path(sys.executable).with_name("telefono-abierto")), *args]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout
    )


def an_environment(database: Path) -> dict:
    """The test run's environment, with no TA_ variable but the database and the secret."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env["TA_CONFIG"] = ""
    env["TA_PRIVACY__HASH_SECRET"] = HASH_SECRET
    env["TA_DATABASE__URL"] = f"sqlite:///{database}"
    return env


def a_free_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def a_database_with_two_cases_and_a_copy_of_the_first(tmp_path) -> tuple[Path, Path]:
    """data/ta.db with two cases; copia.db, taken after the first."""
    live = tmp_path / "data" / "ta.db"
    service = create_app(make_settings(database={"url": f"sqlite:///{live}"}))
    service.migrate()
    a_case(service, "+50370001111")
    copy = tmp_path / "copia.db"
    backup_sqlite(service.engine, copy)
    a_case(service, "+50370002222")
    service.engine.dispose()
    return live, copy


def serving_until(signal_number: int, live: Path, cwd) -> str:
    """`telefono-abierto run --no-console` on `live` until it has answered /healthz, then
    stopped with `signal_number` as a service manager stops it; what it logged."""
    port = a_free_port()
    env = an_environment(live) | {"TA_SERVER__PORT": str(port)}
    command = [str(Path(sys.executable).with_name("telefono-abierto")), "run", "--no-console"]
    service = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                if service.poll() is not None:
                    break
                time.sleep(0.1)
        service.send_signal(signal_number)
        logged, _ = service.communicate(timeout=60)
    finally:
        if service.poll() is None:
            service.kill()
    return logged


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_service_stopped_by_its_manager_closes_its_database_and_leaves_no_log_behind(
    app, tmp_path, stop
):
    """A write-ahead log left beside the file is replayed by whoever opens it next: a stopped
    service leaves the file whole, alone."""
    if is_postgres(app.settings.database.url):
        pytest.skip("the write-ahead log beside the file is SQLite's")
    live, _ = a_database_with_two_cases_and_a_copy_of_the_first(tmp_path)
    logged = serving_until(stop, live, tmp_path)
    assert "Application shutdown complete" in logged, logged
    assert sorted(p.name for p in live.parent.iterdir()) == ["ta.db"]


def a_log_left_behind(live: Path) -> None:
    """What a process killed while writing leaves: a case written into the write-ahead log
    beside the file, never put into the file itself."""
    killed = textwrap.dedent(
        f"""
        import os, sqlite3
        connection = sqlite3.connect({str(live)!r}, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.execute("UPDATE cases SET description = description || ' (editado)'")
        os._exit(0)
        """
    )
    subprocess.run([sys.executable, "-c", killed], check=True, timeout=60)
    assert Path(f"{live}-wal").stat().st_size > 0


def test_a_database_file_with_another_name_is_not_restored_through_either(app, tmp_path):
    """Each name of a file (a hard link) has its own write-ahead log: the one beside the other
    name would be replayed over the restored file the next time it is opened by that name."""
    if is_postgres(app.settings.database.url):
        pytest.skip("db restore is SQLite's; PostgreSQL's copies go back with pg_restore")
    live, copy = a_database_with_two_cases_and_a_copy_of_the_first(tmp_path)
    a_log_left_behind(live)
    alias = tmp_path / "alias.db"
    os.link(live, alias)

    for name in (alias, live):
        done = telefono("db", "restore", str(copy), "--yes", env=an_environment(name), cwd=tmp_path)
        assert done.returncode == 1, done.stdout
        assert done.stdout == ""
        assert done.stderr == (
            f"La base de datos {name} tiene otro nombre en el disco (un enlace duro): "
            "db restore no la reemplaza, porque lo escrito con el otro nombre podría volver a "
            "aplicarse encima de la copia. Deje un solo nombre (borre el enlace que sobra) y "
            "repita db restore.\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("alias")) == [
        "alias.db"
    ]  # the attempt left nothing beside the other name
    with closing(sqlite3.connect(live)) as opened:
        assert opened.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert opened.execute("SELECT count(*) FROM cases").fetchone() == (2,)  # untouched

    alias.unlink()  # one name again: restored, the log left behind folded in first
    done = telefono("db", "restore", str(copy), "--yes", env=an_environment(live), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"Base de datos recuperada de {copy}: 1 caso.\n"
    assert sorted(p.name for p in live.parent.iterdir()) == ["ta.db"]
    with closing(sqlite3.connect(live)) as opened:
        assert opened.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert opened.execute("SELECT count(*) FROM cases").fetchone() == (1,)


@pytest.mark.parametrize("by", ["its path", "a symbolic link", "a hard link"])
def test_the_live_database_is_not_restored_onto_itself(app, tmp_path, by):
    """It would wait for ever on its own lock, and everyone else with it."""
    if is_postgres(app.settings.database.url):
        pytest.skip("db restore is SQLite's; PostgreSQL's copies go back with pg_restore")
    live, _ = a_database_with_two_cases_and_a_copy_of_the_first(tmp_path)
    source = live
    if by == "a symbolic link":
        source = tmp_path / "enlace.db"
        source.symlink_to(live)
    elif by == "a hard link":
        source = tmp_path / "enlace.db"
        os.link(live, source)
    done = telefono(
        "db", "restore", str(source), "--yes", env=an_environment(live), cwd=tmp_path, timeout=20
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"No se recupera {source}: la copia es la misma base de datos que se quiere "
        "reemplazar. Indique el archivo de una copia hecha con db backup.\n"
    )
    with closing(sqlite3.connect(live)) as opened:
        assert opened.execute("SELECT count(*) FROM cases").fetchone() == (2,)
