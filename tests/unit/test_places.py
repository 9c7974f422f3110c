"""The gazetteer: typed places and pins turned into El Salvador's and Bogotá's units."""

import pytest
from pydantic import ValidationError

from bot.app import build_policy
from handlers.core.places import (
    Gazetteer,
    GazetteerError,
    Place,
    built_in_gazetteer,
    load_gazetteer,
    parse_gazetteer,
    place_as_written,
    without_not_knowing,
)
from tests.helpers import make_settings

SV = built_in_gazetteer("SV")
BOGOTA = built_in_gazetteer("CO")


def test_el_salvador_has_14_departments_44_municipalities_and_262_districts():
    assert len({unit.department for unit in SV.units}) == 14
    assert len(SV.municipalities) == 44
    assert len({(unit.municipality, unit.district) for unit in SV.units}) == 262


def test_bogota_has_its_20_localidades():
    assert len(BOGOTA.municipalities) == 20
    assert {"Usaquén", "Kennedy", "Suba", "Sumapaz"} <= set(BOGOTA.municipalities)


@pytest.mark.parametrize(
    ("district", "municipality"),
    [
        ("Santa Tecla", "La Libertad Sur"),
        ("Comasagua", "La Libertad Sur"),
        ("San Juan Opico", "La Libertad Centro"),
        ("Ciudad Arce", "La Libertad Centro"),
        ("Mejicanos", "San Salvador Centro"),
        ("Apopa", "San Salvador Oeste"),
        ("Soyapango", "San Salvador Este"),
        ("Acajutla", "Sonsonate Oeste"),
        ("Chalatenango", "Chalatenango Sur"),
        ("Zacatecoluca", "La Paz Este"),
    ],
)
def test_a_district_belongs_to_its_municipality_of_the_2024_reform(district, municipality):
    assert SV.match(district) == Place(municipality, district, municipality.rsplit(" ", 1)[0])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "en ahuachapan, canton el jicarito por la escuela",
            Place("Ahuachapán Centro", "Ahuachapán", "Ahuachapán"),
        ),
        ("mejicanos", Place("San Salvador Centro", "Mejicanos", "San Salvador")),
        ("Mejicano, col. Zacamil", Place("San Salvador Centro", "Mejicanos", "San Salvador")),
        ("soyapngo reparto las cañas", Place("San Salvador Este", "Soyapango", "San Salvador")),
        ("CHALATENAGO", Place("Chalatenango Sur", "Chalatenango", "Chalatenango")),
        ("Nueva San Salvador", Place("La Libertad Sur", "Santa Tecla", "La Libertad")),
        ("San Salvador Centro", Place("San Salvador Centro", None, "San Salvador")),
        (
            "en el municipio de la libertad",
            Place("La Libertad Costa", "La Libertad", "La Libertad"),
        ),
        ("Santa Tecla, La Libertad", Place("La Libertad Sur", "Santa Tecla", "La Libertad")),
        ("San Lorenzo, San Vicente", Place("San Vicente Norte", "San Lorenzo", "San Vicente")),
        ("El Rosario, La Paz", Place("La Paz Centro", "El Rosario", "La Paz")),
        ("colonia San Antonio, Ilopango", Place("San Salvador Este", "Ilopango", "San Salvador")),
        ("barrio San Miguel, Usulután", Place("Usulután Este", "Usulután", "Usulután")),
    ],
)
def test_a_typed_place_is_matched_despite_accents_typos_and_extra_words(typed, expected):
    assert SV.match(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "el rosario",  # in Cuscatlán, La Paz and Morazán: nothing says which
        "san lorenzo",  # Ahuachapán or San Vicente
        "frente a la iglesia de dolores",  # a church, not Dolores (Cabañas)
        "la calle está en mal estado por la laguna",
        "colonia Escalón",
        "calle Concepción, pasaje 3",
    ],
)
def test_an_ambiguous_place_or_a_common_word_matches_no_unit(typed):
    found = SV.match(typed)
    assert found is None or not found.matched


def test_a_department_alone_gives_the_department_and_no_municipality():
    assert SV.match("departamento de Morazán") == Place(None, None, "Morazán")


@pytest.mark.parametrize(
    ("typed", "localidad"),
    [
        ("Kennedy", "Kennedy"),
        ("la localidad de suba", "Suba"),
        ("kenedy, barrio Timiza", "Kennedy"),
        ("USAQUEN", "Usaquén"),
        ("ciudad bolivar, barrio lucero", "Ciudad Bolívar"),
        ("barrio Santa Fe, Los Mártires", "Los Mártires"),
    ],
)
def test_a_bogota_localidad_is_matched(typed, localidad):
    assert BOGOTA.match(typed) == Place(localidad, None, "Bogotá D.C.")


def test_a_bogota_street_address_matches_no_localidad():
    assert BOGOTA.locate("calle 80 con carrera 30") == Place(None)


def test_a_pin_in_mejicanos_falls_in_san_salvador_centro():
    assert SV.nearest(13.7448, -89.2150) == Place(
        "San Salvador Centro", "Mejicanos", "San Salvador"
    )


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        (13.0, -89.5),  # the Pacific, 50 km off the coast
        (14.0723, -87.1921),  # Tegucigalpa
        (14.6349, -90.5069),  # Guatemala City
    ],
)
def test_a_pin_at_sea_or_in_another_country_falls_in_no_unit(latitude, longitude):
    assert SV.nearest(latitude, longitude) is None


def test_a_pin_in_bogota_falls_in_its_localidad_and_one_in_el_salvador_in_none():
    assert BOGOTA.nearest(4.6280, -74.1530) == Place("Kennedy", None, "Bogotá D.C.")
    assert BOGOTA.nearest(13.7, -89.2) is None


def test_the_typed_place_comes_before_the_pin_and_the_text_as_written_after_both():
    assert SV.locate("Apopa", 13.7448, -89.2150).municipality == "San Salvador Oeste"
    assert SV.locate("", 13.7448, -89.2150).district == "Mejicanos"
    assert SV.locate("Villa Galicia, pasaje 3", 13.0, -89.5) == Place("Villa Galicia")


def test_an_institution_replaces_the_gazetteer_with_its_own_file(tmp_path):
    path = tmp_path / "units.csv"
    path.write_text(
        "# Two wards of a small town\n"
        "department,municipality,district,latitude,longitude,radius_km,aliases\n"
        "Valle,Norte,,10.0,-80.0,3,Barrio Alto\n"
        "Valle,Sur,,9.95,-80.0,3,\n",
        encoding="utf-8",
    )
    units = load_gazetteer("SV", path)
    assert units.municipalities == ("Norte", "Sur")
    assert units.match("en el barrio alto") == Place("Norte", None, "Valle")
    assert units.nearest(9.951, -80.0) == Place("Sur", None, "Valle")
    assert units.match("mejicanos") is None


def test_a_typo_as_close_to_two_names_takes_the_one_listed_first(tmp_path):
    path = tmp_path / "units.csv"
    listed = ["Norte,Cuscatlanes Norte", "Sur,Cuscatlanos Tomasa", "Este,Cuscatlanes Tomasa"]
    path.write_text("department,municipality\n" + "\n".join(listed) + "\n", encoding="utf-8")
    assert load_gazetteer("SV", path).match("cuscatlanis tomasa") == Place(
        "Cuscatlanos Tomasa", None, "Sur"
    )
    listed[1], listed[2] = listed[2], listed[1]
    path.write_text("department,municipality\n" + "\n".join(listed) + "\n", encoding="utf-8")
    assert load_gazetteer("SV", path).match("cuscatlanis tomasa") == Place(
        "Cuscatlanes Tomasa", None, "Este"
    )


def test_a_gazetteer_without_its_columns_or_with_a_bad_number_is_refused():
    with pytest.raises(GazetteerError, match="municipality"):
        parse_gazetteer("department,district\nA,B\n")
    with pytest.raises(GazetteerError, match="row 2"):
        parse_gazetteer("department,municipality,latitude\nA,B,north\n")


def test_a_country_without_a_gazetteer_keeps_places_as_written():
    assert not built_in_gazetteer("GT")
    assert Gazetteer(()).locate("Zona 1, Ciudad de Guatemala") == Place("Zona 1")


def test_a_gazetteer_file_that_cannot_be_read_stops_the_configuration(tmp_path):
    bad = tmp_path / "units.csv"
    bad.write_text("department,district\nA,B\n", encoding="utf-8")
    for path in (bad, tmp_path / "missing.csv"):
        with pytest.raises(ValidationError, match="nomenclátor"):
            make_settings(institution={"gazetteer": str(path)})
    settings = make_settings(institution={"country": "CO", "timezone": "America/Bogota"})
    assert build_policy(settings, classifier=object()).places.match("suba").municipality == "Suba"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (
            "cerca del mercado de Apopa tal vez",
            Place("San Salvador Oeste", "Apopa", "San Salvador"),
        ),
        ("por el mercado de Apopa", Place("San Salvador Oeste", "Apopa", "San Salvador")),
        (
            "cerca de la escuela de Soyapango",
            Place("San Salvador Este", "Soyapango", "San Salvador"),
        ),
        ("por el parque de Santa Ana", Place("Santa Ana Centro", "Santa Ana", "Santa Ana")),
        ("atrás del hospital de ilopango", Place("San Salvador Este", "Ilopango", "San Salvador")),
        ("en el centro de mejicanos", Place("San Salvador Centro", "Mejicanos", "San Salvador")),
        (
            "Mejicanos o Ayutuxtepeque, no me acuerdo",  # either way, the same municipality
            Place("San Salvador Centro", None, "San Salvador"),
        ),
    ],
)
def test_a_town_after_a_building_and_de_is_the_town(typed, expected):
    assert SV.match(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "escuela San José",  # a school's name
        "colonia San Antonio",
        "frente a la iglesia de dolores",  # a church's saint, not Dolores (Cabañas)
        "por el parque de la libertad",  # a park's name, not the town
        "Santa Tecla o Colón",  # two municipalities: the person is not sure which
    ],
)
def test_a_building_s_name_or_a_choice_of_towns_names_no_municipality(typed):
    found = SV.match(typed)
    assert found is None or not found.matched


def test_a_choice_of_two_districts_of_one_municipality_gives_that_municipality():
    assert SV.match("en Apopa o en Nejapa") == Place("San Salvador Oeste", None, "San Salvador")


@pytest.mark.parametrize(
    "said",
    [
        "no sé bien, por la escuela",
        "no le sé decir",
        "aquí en mi casa",
        "allá por donde vive mi tía",
        "a la par de la alcaldía",
        "pues aquí nomás, enfrente de la tienda…",
        "donde siempre se inunda",
        "la verdad no sé",
        "no me acuerdo",
        "acá en la entrada del pasaje",
        "ahí mismo donde le dije",
        "enfrente de la cancha",
        "por donde pasa el bus",
        "no recuerdo el nombre, es por la gasolinera",
        "bueno, no sabría decirle",
        "quién sabe, por el desvío",
        "hay un hoyo en la calle",
        "la tienda de doña Rosa",
        "en mi casa",
        "Santa Tecla o Colón",
    ],
)
def test_words_that_name_no_place_are_no_municipality(said):
    assert place_as_written(said) is None
    assert SV.locate(said).municipality is None


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("Villa Galicia, pasaje 3", "Villa Galicia"),
        ("villa galicia por la escuela", "Villa Galicia"),
        ("no sé, creo que Villa Galicia", "Villa Galicia"),
        ("en Villa Galicia, cerca del río", "Villa Galicia"),
        ("ciudad de guatemala, zona 1", "Ciudad de Guatemala"),
        ("Lotes El Milagro al lado de la cancha", "Lotes El Milagro"),
    ],
)
def test_a_place_the_gazetteer_does_not_know_is_kept_as_the_person_named_it(said, written):
    assert place_as_written(said) == written


@pytest.mark.parametrize(
    "bare",
    ["no sé", "ni idea", "no le sé decir", "la verdad no sé", "no me acuerdo", "No sé bien.",
     "pues no sabría decirle", "no tengo ni idea", "quién sabe", "no recuerdo"],
)  # fmt: skip
def test_not_knowing_where_in_its_common_forms_leaves_nothing(bare):
    assert without_not_knowing(bare) == ""
