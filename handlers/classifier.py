"""Classification of a citizen's description into type, topic and urgency (spec section 5)."""

from __future__ import annotations

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


# Stems matched against accent-folded, lower-cased text.
_TYPE_KEYWORDS: dict[str, tuple[str, ...]] = {
    "denuncia": (
        "denunci",
        "corrup",
        "ilegal",
        "soborno",
        "mordida",
        "roban",
        "robando",
        "sin permiso",
        "botando",
        "tiran basura",
        "uso indebido",
        "maquinaria del",
    ),
    "reclamo": (
        "reclam",
        "indemniz",
        "compens",
        "me deben",
        "prometieron",
        "no cumplieron",
        "danaron mi",
        "dano a mi",
        "perjuicio",
        "pagar los danos",
        "exijo",
    ),
    "queja": (
        "queja",
        "quejar",
        "mal servicio",
        "mala atencion",
        "groser",
        "nadie responde",
        "nadie contesta",
        "no responden",
        "mal hecho",
        "mala calidad",
        "pesimo",
        "tardan",
        "llevan meses",
        "abandon",
    ),
    "consulta": (
        "consulta",
        "informacion",
        "requisito",
        "cuando van",
        "cuando empieza",
        "quien es responsable",
        "como hago",
        "como puedo",
        "donde puedo",
        "horario",
        "que pasos",
        "quisiera saber",
        "quiero saber",
        "me pueden informar",
    ),
    "sugerencia": (
        "suger",
        "propongo",
        "propuesta",
        "seria bueno",
        "seria bonito",
        "recomiendo",
        "podrian mejorar",
        "opino",
        "deberian considerar",
        "idea",
    ),
    "solicitud": (
        "solicit",
        "pido",
        "pedimos",
        "necesitamos",
        "reparar",
        "reparen",
        "arreglen",
        "arreglar",
        "construir",
        "construyan",
        "instalar",
        "inspeccion",
        "visita",
        "hoyo",
        "bache",
        "hundimiento",
        "tapad",
        "tapo",
        "inunda",
        "danad",
        "rota",
        "roto",
        "limpieza",
        "se cayo",
        "cayo un",
        "caido",
    ),
}
_TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "puentes": ("puente", "pasarela", "baden"),
    "drenaje": (
        "drenaje",
        "tragante",
        "alcantarill",
        "cuneta",
        "aguas lluvias",
        "inund",
        "tuberia",
        "desague",
        "canaleta",
    ),
    "deslizamientos": (
        "derrumbe",
        "deslizamiento",
        "desliz",
        "talud",
        "cayo tierra",
        "se vino el cerro",
        "ladera",
        "paredon",
        "cárcava",
        "carcava",
    ),
    "senalizacion_seguridad_vial": (
        "senal",
        "semaforo",
        "rotulo",
        "tumulo",
        "reductor",
        "paso de cebra",
        "accidente",
        "luminaria",
        "alumbrado",
    ),
    "transporte_publico": (
        "bus",
        "buses",
        "microbus",
        "transporte",
        "ruta ",
        "parada",
        "motorista",
        "pasaje",
    ),
    "obras_en_ejecucion": (
        "obra",
        "constructora",
        "contratista",
        "proyecto",
        "maquinaria",
        "trabajos",
    ),
    "calles_caminos": (
        "calle",
        "camino",
        "carretera",
        "calzada",
        "asfalto",
        "bache",
        "hoyo",
        "pavimento",
        "balastre",
        "via",
        "avenida",
        "pasaje",
        "vereda",
    ),
}
_EMERGENCY = (
    "atrapad",
    "arrastr",
    "se esta cayendo",
    "se cayo el puente",
    "colapso",
    "colapsando",
    "se derrumbo",
    "soterr",
    "sepultad",
    "herido",
    "muerto",
    "en peligro",
    "peligro de muerte",
    "se lleva las casas",
    "encima de las casas",
    "sobre las casas",
    "emergencia",
)
_URGENT = (
    "urgente",
    "rapido",
    "lo antes posible",
    "ya no se puede pasar",
    "incomunicad",
    "riesgo",
    "grave",
    "cada vez peor",
)


def _best(text: str, table: dict[str, tuple[str, ...]], default: str) -> tuple[str, float]:
    scores = {label: sum(text.count(stem) for stem in stems) for label, stems in table.items()}
    label, hits = max(scores.items(), key=lambda item: item[1])
    if hits == 0:
        return default, 0.3
    runner_up = sorted(scores.values())[-2]
    return label, 0.9 if hits > runner_up else 0.55


class KeywordClassifier:
    """A small stem-matching classifier: enough to run the dialogue end to end."""

    def classify(self, text: str) -> Classification:
        """Propose labels for a description."""
        folded = fold(text)
        case_type, type_confidence = _best(folded, _TYPE_KEYWORDS, "solicitud")
        topic, topic_confidence = _best(folded, _TOPIC_KEYWORDS, "otro")
        if any(stem in folded for stem in _EMERGENCY):
            urgency = "emergencia"
        elif any(stem in folded for stem in _URGENT):
            urgency = "urgente"
        else:
            urgency = "normal"
        return Classification(case_type, topic, urgency, min(type_confidence, topic_confidence))
