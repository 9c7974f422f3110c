"""Settings from config.toml and TA_ variables; wrong values stop start-up with one line."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from tests.helpers import HASH_SECRET


def telefono(tmp_path, config: Path, *args: str, env: dict | None = None):
    """The console script with `config`, in an environment without the test run's TA_ variables
    (unless `env` is given); what it printed and its exit status."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    command = [str(Path(sys.executable).with_name("telefono-abierto")), "--config", str(config)]
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120
    )


def write(tmp_path, content: str):
    path = tmp_path / "config.toml"
    path.write_text(content, encoding="utf-8")
    return path


def test_without_a_file_every_default_applies(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.institution.folio_prefix == "TA"
    assert settings.database.url == "sqlite:///./data/telefono_abierto.db"
    assert settings.deadlines.consulta == 10 and settings.deadlines.solicitud == 15
    assert settings.schedule.weekly_summary == "mon 07:00"


def test_environment_variables_override_the_file_key_by_key(tmp_path, monkeypatch):
    path = write(
        tmp_path, '[deadlines]\nconsulta = 11\nqueja = 20\n[institution]\ncountry = "CO"\n'
    )
    monkeypatch.setenv("TA_DEADLINES__CONSULTA", "12")
    monkeypatch.setenv("TA_INSTITUTION__NAME", "Secretaría General")
    settings = load_settings(path)
    assert (settings.deadlines.consulta, settings.deadlines.queja) == (12, 20)
    assert (settings.institution.country, settings.institution.name) == ("CO", "Secretaría General")


def test_ta_config_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TA_CONFIG", str(write(tmp_path, '[institution]\nfolio_prefix = "PQR"\n')))
    assert load_settings().institution.folio_prefix == "PQR"


def test_the_example_configuration_is_valid_and_complete(monkeypatch):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    settings = load_settings(example)
    text = example.read_text(encoding="utf-8")
    for section, values in settings.model_dump().items():
        assert f"[{section}]" in text
        for key in values:
            assert f"\n{key} =" in text or f"\n# {key} =" in text, f"{section}.{key} undocumented"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[deadlines]\nurgentes = 3\n", "deadlines.urgentes: tipo de caso desconocido"),
        ('[database]\nurl = "no es una url"\n', "database.url: URL de base de datos mal formada"),
        ('[database]\nurl = "mysql://localhost/x"\n', "database.url: solo se admiten"),
        ('[institution]\ncountry = "XX"\n', "institution.country: código de país desconocido"),
        ('[institution]\ntimezone = "Marte/Olympus"\n', "institution.timezone: zona horaria"),
        ('[server]\nport = "ocho"\n', "server.port: debe ser un número entero"),
        ("[telegram]\nenabled = true\n", "telegram.token: vacío"),
        ('[schedule]\nweekly_summary = "lunes"\n', "schedule.weekly_summary:"),
        ("nada = 1\n", "nada: clave desconocida"),
        ('[whatsapp]\nfrom_number = "7000-1234"\n', "whatsapp.from_number: debe ser un número"),
        (
            f'[privacy]\nhash_secret = "{HASH_SECRET}"\n[telegram]\nenabled = true\ntoken = "1:x"\n'
            'secret_token = "s"\n',
            "server.public_url",
        ),
        ("[deadlines\n", "TOML inválido"),
    ],
)
def test_a_wrong_value_is_named_in_one_line(tmp_path, content, expected):
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, content))
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_a_channel_needs_the_privacy_hash_secret(tmp_path):
    path = write(tmp_path, '[telegram]\nenabled = true\ntoken = "1:x"\nsecret_token = "s"\n')
    with pytest.raises(ConfigError, match="privacy.hash_secret"):
        load_settings(path)


def test_telegram_polling_needs_neither_a_public_url_nor_a_secret_token(tmp_path):
    path = write(
        tmp_path,
        f'[privacy]\nhash_secret = "{HASH_SECRET}"\n[telegram]\nenabled = true\ntoken = "1:x"\n'
        'mode = "polling"\n',
    )
    assert load_settings(path).telegram.mode == "polling"


@pytest.mark.parametrize(
    "weak",
    ["h", "CHANGE_ME", "changeme", "secret", "un-texto-largo-y-aleatorio", "x" * 31, " " * 40],
)
def test_a_weak_hash_secret_is_refused_naming_the_key(tmp_path, weak):
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, f'[privacy]\nhash_secret = "{weak}"\n'))
    message = str(error.value)
    assert message.startswith("Configuración inválida: privacy.hash_secret: demasiado débil")
    assert "\n" not in message


def test_a_weak_hash_secret_from_the_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TA_PRIVACY__HASH_SECRET", "changeme")
    with pytest.raises(ConfigError, match="privacy.hash_secret: demasiado débil"):
        load_settings()


def test_a_long_random_hash_secret_is_accepted_and_a_trial_needs_none(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings().privacy.hash_secret == ""
    settings = load_settings(write(tmp_path, f'[privacy]\nhash_secret = "{HASH_SECRET}"\n'))
    assert settings.privacy.hash_secret == HASH_SECRET


@pytest.mark.parametrize("token", ["con espacios", "ñandú", "a+b=c", "x" * 257, "tok/en"])
def test_a_telegram_secret_token_outside_the_bot_api_rule_is_refused(tmp_path, token):
    with pytest.raises(ConfigError) as error:
        load_settings(write(tmp_path, f'[telegram]\nsecret_token = "{token}"\n'))
    message = str(error.value)
    assert message.startswith("Configuración inválida: telegram.secret_token: debe tener de 1 a")
    assert "\n" not in message


@pytest.mark.parametrize("token", ["s", "A-z_09", "x" * 256])
def test_a_telegram_secret_token_within_the_bot_api_rule_is_accepted(tmp_path, token):
    path = write(tmp_path, f'[telegram]\nsecret_token = "{token}"\n')
    assert load_settings(path).telegram.secret_token == token


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://admin:Hunter2Secreto@db.example.org:notaport/ta",
        "postgresql+psycopg://admin:Hunter2Secreto@[::1/ta",
        "admin:Hunter2Secreto@db.example.org/ta",
    ],
)
def test_a_malformed_database_url_is_reported_without_its_password(tmp_path, url):
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert "database.url: URL de base de datos mal formada" in str(error.value)
    assert "Hunter2Secreto" not in str(error.value)
    done = telefono(tmp_path, path, "cases", "list")
    assert done.returncode == 2
    assert "database.url: URL de base de datos mal formada" in done.stderr
    assert "Hunter2Secreto" not in done.stdout + done.stderr


@pytest.mark.parametrize("command", [("cases", "list"), ("db", "upgrade")])
def test_a_password_with_an_unencoded_at_sign_shows_no_part_of_it(tmp_path, command):
    """'@' ends the password in a URL: the rest of it would be read as the host's name."""
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://ta:Hunter2@Secreto@127.0.0.1:{port}/ta"
    done = telefono(tmp_path, write(tmp_path, f'[database]\nurl = "{url}"\n'), *command)
    assert done.returncode == 2
    assert "Hunter2" not in done.stdout + done.stderr
    assert "Secreto" not in done.stdout + done.stderr
    assert done.stderr == (
        "Configuración inválida: database.url: URL de base de datos mal formada: "
        "postgresql+psycopg://… (no se muestra el resto, que puede llevar la contraseña; "
        "los caracteres especiales de la contraseña se escriben codificados, como %40 para @)\n"
    )


def test_a_database_url_is_shown_with_no_part_of_its_password():
    """Where an unencoded '@' made it to the connection (a URL given in code, not the settings,
    which refuse it), nothing up to the last '@' before the host is shown."""
    from sqlalchemy.engine import make_url

    from bot.cli.context import shown_url

    shown = {
        "postgresql+psycopg://ta:Hunter2@Secreto@db.example.org:5432/ta": (
            "postgresql+psycopg://***@db.example.org:5432/ta"
        ),
        "postgresql+psycopg://ta:Hunter2Secreto@db.example.org/ta": (
            "postgresql+psycopg://ta:***@db.example.org/ta"
        ),
        "postgresql+psycopg://ta@db.example.org/ta?password=Hunter2Secreto": (
            "postgresql+psycopg://ta@db.example.org/ta"
        ),
    }
    assert {url: shown_url(make_url(url)) for url in shown} == shown


@pytest.mark.parametrize(
    "credentials",
    ["ta:Hunter2Secreto@127.0.0.1:{port}/ta", "ta@127.0.0.1:{port}/ta?password=Hunter2Secreto"],
)
def test_a_database_that_cannot_be_reached_is_said_so_not_taken_for_an_old_schema(
    tmp_path, credentials
):
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = "postgresql://" + credentials.format(port=port)
    path = write(tmp_path, f'[database]\nurl = "{url}"\n')
    done = telefono(tmp_path, path, "cases", "list")
    assert done.returncode == 1
    assert "No se pudo conectar con la base de datos" in done.stderr
    assert "db upgrade" not in done.stderr  # upgrading would not help
    assert "Hunter2Secreto" not in done.stdout + done.stderr


def test_a_supervisor_runs_a_report_without_the_channels_secrets_which_only_run_needs(tmp_path):
    path = write(
        tmp_path,
        "[whatsapp]\nenabled = true\n[telegram]\nenabled = true\n"
        f'[server]\npublic_url = "https://ta.example.org"\n'
        f'[database]\nurl = "sqlite:///{tmp_path / "ta.db"}"\n',
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env["TA_PRIVACY__HASH_SECRET"] = HASH_SECRET

    def run(*args: str) -> subprocess.CompletedProcess:
        return telefono(tmp_path, path, *args, env=env)

    assert run("db", "upgrade").returncode == 0
    tally = run("tally", "--period", "2026-T3")
    assert tally.returncode == 0, tally.stderr
    assert run("cases", "list").returncode == 0
    served = run("run")  # serving the channels: their secrets are needed, and named
    assert served.returncode == 2
    assert "whatsapp.account_sid" in served.stderr and "TA_WHATSAPP__ACCOUNT_SID" in served.stderr
    del env["TA_PRIVACY__HASH_SECRET"]  # it keys what is stored: every command needs it
    assert run("cases", "list").returncode == 2


def test_secret_parameters_of_a_database_url_are_never_shown():
    from sqlalchemy.engine import make_url

    from bot.cli.context import shown_url

    url = (
        "postgresql+psycopg://ta@db.example.org/ta?sslmode=require&sslpassword=Cl4veSSL"
        "&password=S3cr%40t&api_token=T0k3n&SSLKEY=Ll4ve&client_secret=S3cr3t0"
    )
    assert shown_url(make_url(url)) == "postgresql+psycopg://ta@db.example.org/ta?sslmode=require"


SECRETS = ("S3cr", "Cl4veSSL")


@pytest.mark.parametrize(
    "command", [("db", "backup", "copia.db"), ("db", "upgrade"), ("run", "--no-console")]
)
def test_a_password_given_as_a_parameter_of_the_url_is_not_shown(tmp_path, command):
    port = a_free_port()
    url = f"postgresql+psycopg://ta@127.0.0.1:{port}/ta?password=S3cr%40t&sslpassword=Cl4veSSL"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TA_")}
    env["TA_PRIVACY__HASH_SECRET"] = HASH_SECRET
    env["TA_SERVER__PORT"] = str(a_free_port())
    done = telefono(tmp_path, write(tmp_path, f'[database]\nurl = "{url}"\n'), *command, env=env)
    assert done.returncode == 1
    said = done.stdout + done.stderr
    assert not [secret for secret in SECRETS if secret in said], said
    if command[1] == "backup":  # the command to run: the password in PGPASSWORD, not in it
        assert "PGPASSWORD" in said
        assert (
            f"pg_dump --format=custom --file=copia.db 'postgresql://ta@127.0.0.1:{port}/ta'" in said
        )
    else:
        assert (
            f"No se pudo conectar con la base de datos postgresql+psycopg://ta@127.0.0.1:{port}/ta:"
            in said
        )


def a_free_port() -> int:
    with socket.socket() as probe:  # a port nobody listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
