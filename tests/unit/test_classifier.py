"""The classifier's behaviour on a tiny model trained in memory, and the emergency rules."""

import pytest

from bot.training.model import train
from handlers.classification.classifier import MAX_CHARS, decide_urgency, normalise
from handlers.classification.compact import LOW_CONFIDENCE, ModelClassifier
from handlers.classification.corpus import Example, merge
from handlers.classification.urgency import is_emergency
from handlers.core.labels import CASE_TYPES, DEFAULT_TOPICS, URGENCIES
from handlers.core.normalise import fold

# type topic urgency | text
TABLE = """
solicitud calles_caminos normal | hay un hoyo enorme en la calle, vengan a taparlo
solicitud calles_caminos normal | pedimos que arreglen el camino de la colonia
solicitud drenaje normal | el tragante de la esquina esta tapado, limpienlo
solicitud puentes normal | necesitamos que reparen el puente de madera
consulta calles_caminos normal | cuando van a pavimentar la calle de la colonia?
consulta drenaje normal | a quien le toca limpiar los tragantes?
consulta puentes normal | que requisitos piden para pedir un puente?
queja calles_caminos normal | pesimo trabajo, el bache volvio a salir al mes
queja drenaje normal | nadie responde, que mal servicio con el tragante
reclamo calles_caminos normal | se me rompio la llanta en el hoyo, quiero que me paguen
reclamo puentes normal | prometieron el puente y no cumplieron, exigimos
denuncia obras_en_ejecucion normal | denuncio que venden el asfalto de la obra
denuncia drenaje normal | estan botando ripio en la quebrada sin permiso
sugerencia calles_caminos normal | seria bueno poner arboles en las calles nuevas
sugerencia puentes normal | propongo pintar los puentes de colores
queja transporte_publico normal | el bus de la ruta 29 no para en la parada
solicitud calles_caminos urgente | se esta hundiendo la calle y crece el hoyo, urgente
solicitud puentes urgente | el puente se mueve mucho cuando pasan buses, urge
solicitud drenaje emergencia | el rio se llevo a un señor, manden rescate
solicitud deslizamientos emergencia | derrumbe sobre las casas con gente adentro
"""
TINY = [
    Example(text.strip(), *labels.split())
    for labels, text in (line.split("|") for line in TABLE.strip().splitlines())
]


@pytest.fixture(scope="module")
def classifier() -> ModelClassifier:
    return ModelClassifier(train(TINY, calibrate=False))


@pytest.mark.parametrize(
    ("with_accents", "without"),
    [
        (
            "¿Cuándo van a pavimentar la calle de la colonia?",
            "cuando van a pavimentar la calle de la colonia",
        ),
        ("PÉSIMO TRABAJO, el bache volvió", "pesimo trabajo el bache volvio"),
        ("Denunció que venden el asfalto", "denuncio q venden el asfalto"),
    ],
)
def test_accents_case_and_chat_spellings_give_the_same_answer(classifier, with_accents, without):
    assert normalise(with_accents) == normalise(without)
    assert classifier.classify(with_accents) == classifier.classify(without)


@pytest.mark.parametrize("text", ["", "   ", "😀😀😀", "🙏", "!!!???", "hola", "Buenas tardes"])
def test_an_empty_or_emoji_only_message_gets_a_low_confidence_answer(classifier, text):
    result = classifier.classify(text)
    assert result.confidence == LOW_CONFIDENCE
    assert (result.topic, result.urgency) == ("otro", "normal")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "😀",
        "asdf",
        "hay un hoyo enorme en la calle",
        "quiero denunciar corrupcion",
        "se cayo el puente y hay gente atrapada",
        "x" * 10_000,
        "\x00\x01",
    ],
)
def test_the_classifier_answers_only_with_spec_labels(classifier, text):
    result = classifier.classify(text)
    assert result.type in CASE_TYPES and result.topic in DEFAULT_TOPICS
    assert result.urgency in URGENCIES and 0 <= result.confidence <= 1
    assert all(type(label) is str for label in (result.type, result.topic, result.urgency))


def test_a_long_message_is_read_whole_and_a_huge_one_only_up_to_a_bound(classifier):
    preamble = "Buenas tardes, les escribo en nombre de la directiva de nuestra comunidad. " * 40
    long_text = preamble + "Ahorita el rio se llevo a un señor con todo y carro en el vado."
    assert 2_000 < len(long_text) < MAX_CHARS
    assert classifier.classify(long_text).urgency == "emergencia"  # its last sentence counts
    huge = "hay un hoyo enorme en la calle, vengan a taparlo. " * 2_000
    assert normalise(huge) == normalise(huge[:MAX_CHARS])
    assert classifier.classify(huge).topic == "calles_caminos"


@pytest.mark.parametrize(
    "text",
    [
        "se derrumbo el cerro sobre las casas",
        "se vino el cerro encima de las casas del pasaje 3",
        "el paredon se desplomo sobre dos viviendas del canton",
        "Está cayendo lodo y piedras sobre las casas de la colonia",
        "un deslave sepultó tres casas en la vereda",
        "las casas quedaron soterradas",
        "se cayó el puente con un carro encima",
        "el puente se está cayendo ahorita mismo",
        "EL PUENTE SE ESTA PARTIENDO POR LA CRECIDA",
        "colapsó la pasarela de la autopista",
        "la crecida derribo el puente peatonal",
        "la correntada se llevó a un señor en la calle",
        "un niño se cayo al tragante y se lo llevo el agua",
        "el rio arrastro un carro con dos personas adentro",
        "hay gente atrapada en los carros por la inundacion",
        "mi vecina quedó atrapada en su casa inundada",
        "el agua se esta llevando un bus con estudiantes",
    ],
)
def test_the_emergency_rules_hear_many_phrasings(text):
    assert is_emergency(fold(text))
    assert decide_urgency(text, "normal") == "emergencia"


@pytest.mark.parametrize(
    "text",
    [
        "no es una emergencia pero hay gente atrapada en el trafico por un hoyo",
        "hace dos años se cayó el puente y todavía no lo reconstruyen",
        "el año pasado se vino el cerro sobre las casas",
        "el puente se está cayendo a pedazos y nadie hace nada",
        "se cayó la baranda del puente peatonal",
        "hay riesgo de deslizamiento en las casas de arriba",
        "la corriente arrastra piedras a la calle",
        "hay un derrumbe en la calle",
        "el camino se lo llevo el agua, hay ancianos que necesitan medicina",
        "los carros quedaron atrapados por el derrumbe",
    ],
)
def test_what_is_not_an_emergency_now_is_not_called_one(text):
    assert not is_emergency(fold(text))


def test_saying_it_is_not_an_emergency_overrules_the_model_but_not_the_other_way():
    assert decide_urgency("no es emergencia, solo un hoyo", "emergencia") == "urgente"
    assert decide_urgency("hay un hoyo en la calle", "urgente") == "urgente"
    assert decide_urgency("el puente colapsó con gente encima", "normal") == "emergencia"


def test_staff_labels_win_over_the_corpus_for_the_same_text():
    corpus = [Example("Hay un hoyo", "queja", "otro", "normal"), TINY[1]]
    staff = [Example("hay un hoyo", "solicitud", "calles_caminos", "normal")]
    assert merge(corpus, staff) == [TINY[1], staff[0]]
