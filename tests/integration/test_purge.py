"""After an erasure the SQLite file is rebuilt; when a reader is in the way, the rebuild is
owed and done as soon as it can be, not left for the night."""

import sqlite3

from sqlalchemy import text

from storage.engine import make_engine, purge_old_versions, purge_pending, retry_purge


def test_a_rebuild_a_reader_got_in_the_way_of_is_owed_until_it_is_done(tmp_path):
    path = tmp_path / "telefono.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (body TEXT)"))
        connection.execute(text("INSERT INTO notes VALUES ('denuncio al capataz')"))
        connection.execute(text("DELETE FROM notes"))
    reader = sqlite3.connect(path)  # another process reading, mid-transaction
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM notes").fetchall()

    assert not purge_old_versions(engine)
    assert purge_pending(engine)
    assert not retry_purge(engine)  # still in the way: still owed

    reader.rollback()
    reader.close()
    assert retry_purge(engine)
    assert not purge_pending(engine)
    assert not (tmp_path / "telefono.db-wal").exists() or (
        (tmp_path / "telefono.db-wal").stat().st_size == 0
    )
    assert b"capataz" not in path.read_bytes()
    engine.dispose()
