"""Settings from config.toml and TA_ variables; wrong values stop start-up with one line."""

import pytest

from bot.config import ConfigError, load_settings


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
            '[privacy]\nhash_secret = "h"\n[telegram]\nenabled = true\ntoken = "1:x"\n'
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
        '[privacy]\nhash_secret = "h"\n[telegram]\nenabled = true\ntoken = "1:x"\n'
        'mode = "polling"\n',
    )
    assert load_settings(path).telegram.mode == "polling"
