"""Classification of a citizen's description into type, topic and urgency (spec section 5)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from handlers.normalise import fold


@dataclass(frozen=True)
class Classification:
    """The labels proposed for a description, and how sure the classifier is (0 to 1)."""

    type: str
    topic: str
    urgency: str
    confidence: float


class Classifier(Protocol):
    """Anything that proposes labels for a text."""

    def classify(self, text: str) -> Classification: ...


def _stems(text: str) -> tuple[str, ...]:
    return tuple(stem.strip() for stem in text.split(",") if stem.strip())


# Word beginnings (or phrases) matched at the start of a word in accent-folded, lower-case text.
_TYPE_STEMS = {
    "denuncia": _stems(
        "denunci, corrup, ilegal, soborno, mordida, roban, robando, se roba, sin permiso, "
        "botando, tiran basura, tiran ripio, uso indebido, maquinaria del estado, desvian, "
        "irregularidad, vende el, venden el"
    ),
    "reclamo": _stems(
        "reclam, indemniz, compens, me deben, prometieron, no cumplieron, danaron mi, "
        "dano a mi, perjuicio, pagar los danos, exijo, me rompieron, responda por"
    ),
    "queja": _stems(
        "queja, quejar, mal servicio, mala atencion, groser, nadie responde, nadie contesta, "
        "no responden, mal hecho, mala calidad, pesimo, tardan, llevan meses, abandon, "
        "trato, me trataron"
    ),
    "consulta": _stems(
        "consulta, informacion, requisito, cuando van, cuando empieza, quien es responsable, "
        "como hago, como puedo, donde puedo, horario, que pasos, quisiera saber, quiero saber, "
        "me pueden informar, cuanto tiempo"
    ),
    "sugerencia": _stems(
        "suger, propongo, propuesta, seria bueno, seria bonito, recomiendo, podrian mejorar, "
        "opino, deberian considerar, idea, me gustaria que"
    ),
    "solicitud": _stems(
        "solicit, pido, pedimos, necesitamos, reparar, reparen, arreglen, arreglar, construir, "
        "construyan, instalar, inspeccion, visita, hoyo, bache, hundimiento, tapad, tapo, "
        "inunda, danad, rota, roto, limpieza, se cayo, caido, grieta, agrietad"
    ),
}
_TOPIC_STEMS = {
    "puentes": _stems("puente, pasarela, baden"),
    "drenaje": _stems(
        "drenaje, tragante, alcantarill, cuneta, aguas lluvias, inund, tuberia, desague, canaleta"
    ),
    "deslizamientos": _stems(
        "derrumb, deslav, desliz, talud, cayo tierra, se vino el cerro, cerro, ladera, paredon, "
        "carcava, deslave"
    ),
    "senalizacion_seguridad_vial": _stems(
        "senal, semaforo, rotulo, tumulo, reductor, paso de cebra, accidente, luminaria, alumbrado"
    ),
    "transporte_publico": _stems(
        "bus, buses, microbus, transporte, ruta, parada, motorista, pasaje de bus"
    ),
    "obras_en_ejecucion": _stems("obra, constructora, contratista, proyecto, maquinaria, trabajos"),
    "calles_caminos": _stems(
        "calle, camino, carretera, calzada, asfalto, bache, hoyo, pavimento, balastre, via, "
        "avenida, vereda"
    ),
}
_EMERGENCY = _stems(
    "atrapad, arrastr, se esta cayendo el puente, se cayo el puente, colaps, se derrumb, "
    "soterr, sepultad, heridos, en peligro, peligro de muerte, se lleva las casas, "
    "encima de las casas, sobre las casas, se esta llevando"
)
_URGENT = _stems(
    "urgente, rapido, lo antes posible, ya no se puede pasar, incomunicad, riesgo, grave, "
    "cada vez peor"
)
_NOT_URGENT = _stems(
    "no es emergencia, no es una emergencia, no es urgente, no hay peligro, no hay herid, "
    "nadie atrapad, nadie herid, ningun herid, sin herid, ni nadie atrapad, el ano pasado, "
    "hace anos"
)


def _pattern(stems: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(s) for s in stems) + ")")


class KeywordClassifier:
    """A small stem-matching classifier: enough to run the dialogue end to end."""

    def __init__(self) -> None:
        self._types = {label: _pattern(stems) for label, stems in _TYPE_STEMS.items()}
        self._topics = {label: _pattern(stems) for label, stems in _TOPIC_STEMS.items()}
        self._emergency, self._urgent = _pattern(_EMERGENCY), _pattern(_URGENT)
        self._calm = _pattern(_NOT_URGENT)

    def classify(self, text: str) -> Classification:
        """Propose labels for a description."""
        folded = fold(text)
        case_type, type_confidence = _best(folded, self._types, "solicitud")
        topic, topic_confidence = _best(folded, self._topics, "otro")
        if self._calm.search(folded):
            urgency = "normal"
        elif self._emergency.search(folded):
            urgency = "emergencia"
        elif self._urgent.search(folded):
            urgency = "urgente"
        else:
            urgency = "normal"
        return Classification(case_type, topic, urgency, min(type_confidence, topic_confidence))


def _best(text: str, patterns: dict[str, re.Pattern[str]], default: str) -> tuple[str, float]:
    scores = {label: len(pattern.findall(text)) for label, pattern in patterns.items()}
    label, hits = max(scores.items(), key=lambda item: item[1])
    if hits == 0:
        return default, 0.3
    runner_up = sorted(scores.values())[-2]
    return label, 0.9 if hits > runner_up else 0.55
