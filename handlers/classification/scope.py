"""What is not a report: courtesy, praise, noise, and matters of other services.

`in_scope` is the rule-based floor under the model: thanks, praise, greetings, one-word and
meaningless texts never become a classified report, whatever the model proposes. `other_service`
names the service a text is about when it is not public works (water supply, electricity,
rubbish, police, health, a school); its topic is then `otro`. Everything matches folded text
(see handlers.core.normalise.fold).
"""

from __future__ import annotations

import re
from enum import StrEnum

from handlers.core.normalise import fold, looks_like_words, words
from handlers.core.ports import Classification

SERVICES = ("agua", "electricidad", "basura", "policia", "salud", "educacion")


class Kind(StrEnum):
    """What an out-of-scope text is, so that it is answered as what it is."""

    THANKS = "thanks"
    PRAISE = "praise"
    GREETING = "greeting"
    NOISE = "noise"  # one word, laughter, a keyboard mash, emoji, nothing


_THANKS = (
    r"gracias|grax|grasias|gracia|agradezco|agradecid[oa]s?|bendicion\w*|dios (?:le|les"
    r"|te) bendiga|muy amables?|amable"
)
_PRAISE = (
    r"excelente|exelente|muy bien|muy bueno|buen(?:isimo)? (?:trabajo|servicio)|perfecto|genial"
    r"|felicidades|felicitaciones|felicito|que bueno|que bien|super|chevere|bacano|chivo|chilero"
    r"|de lujo|10 de 10|lo maximo|buenisimo|maravilloso|increible|los felicito|bien hecho"
)
# Words that acknowledge or answer but say nothing on their own.
_ACK = (
    r"ok|okay|oki|okey|dale|vale|listo|entendido|de acuerdo|esta bien|ya|bien|bueno|sale|va|simon"
    r"|claro|correcto|recibido|atentos|nada|ninguno|ninguna|no|si|nop|nel|mmm?|aja|ah|oh|eh"
)
_GREETING = (
    r"hola|ola|holi|holis|buenas|buenos dias|buen dia|buenas tardes|buenas noches|saludos|hey|alo"
    r"|que tal|como esta|como estan|como le va|que onda|quiubo|quihubo|epa"
)
_FILLER = (
    r"a|y|e|o|le|les|te|lo|los|la|las|el|por|para|todo|todos|su|sus|de|del|muchas|mucho|mil|muy|tan"
    r"|tanto|señor\w*|senor\w*|don|dona|pues|igual|mente|gente|equipo|usted|ustedes|servicio"
    r"|atencion|trabajo|ayuda|respuesta|apoyo|labor|pronta|rapida|es|son|fue|un|una|que|me|nos"
    r"|q|k|estan|esta|haciendo|hacen|hizo|muchachos|chicos|amigos|dios|quedo|quedaron"
)
_LAUGHTER = re.compile(
    r"^(?:j[aeiou]){2,}j?$|^(?:[aeiou]?j){2,}[aeiou]?$|^(?:ha){2,}h?$|^(?:xd)+$|^(?:lol)+$"
)
_COURTESY = re.compile(rf"^(?:(?:{_THANKS}|{_PRAISE}|{_GREETING}|{_ACK}|{_FILLER})\b\W*)+$")
_HAS_PRAISE = re.compile(rf"\b(?:{_PRAISE})\b")
_HAS_THANKS = re.compile(rf"\b(?:{_THANKS})\b")
_HAS_GREETING = re.compile(rf"^(?:(?:{_GREETING}|{_FILLER})\b\W*)+$")

# Services that are not public works, by what people write about them. A text that also names
# public works (a street, a bridge, a drain, a landslide, a work) is not referred elsewhere.
_SERVICE_WORDS = {
    "agua": (
        r"no (?:hay|tenemos|nos llega|llega|cae|viene) (?:el )?agua|sin agua|falta de agua"
        r"|servicio de agua|agua potable|recibo del? agua|factura del? agua|cobro del? agua"
        r"|anda\b|acueducto|la pipa|cisterna|medidor de agua|contador de agua|agua turbia"
    ),
    "electricidad": (
        r"no (?:hay|tenemos) (?:luz|energia|corriente)|sin (?:luz|energia)|se fue la (?:luz|energia"
        r"|corriente)|apagon|corte de (?:luz|energia)|recibo de (?:luz|energia)|factura de (?:luz"
        r"|energia)|energia electrica|servicio electrico|transformador|medidor de luz|caess|del sur"
        r"|aes\b|epm\b|codensa|enel\b|electricaribe|alumbrado|lamparas? (?:de la calle|del poste)"
        r"|poste de luz|focos? del poste"
    ),
    "basura": (
        r"basura|tren de aseo|recolec\w*|camion recolector|desechos|ripio en la acera|aseo"
        r"|barrido"
    ),
    "policia": (
        r"policia|pnc\b|patrulla|robo|robaron|asalt\w*|extorsi\w*|pandill\w*|mareros|delincuen\w*"
        r"|ladron\w*|balacera|disparos|droga|vendiendo droga|violencia|amenaza\w*"
        r"|agente de transito"
    ),
    "salud": (
        r"hospital|unidad de salud|clinica|centro de salud|puesto de salud|medicamentos?|medicinas?"
        r"|vacuna\w*|cita medica|doctor|medico|enfermer\w*|eps\b|seguro social|isss|dengue|zancudos"
        r"|fumigacion|fumigar"
    ),
    "educacion": (
        r"maestr[oa]s?|profesor\w*|docentes?|matricula|becas?|utiles escolares|uniformes"
        r"|clases|notas del|calificaciones|director del (?:colegio|centro escolar|instituto)"
        r"|paquete escolar|ministerio de educacion|mined"
    ),
}
_PUBLIC_WORKS = re.compile(
    r"\b(?:calles?|caminos?|carreteras?|puentes?|pasarela|baches?|hoyos?|huecos?|drenaje|tragantes?"
    r"|alcantarill\w*|coladeras?|cunetas?|aguas negras|aguas lluvias|derrumb\w*|desliz\w*|talud"
    r"|muro|obra|obras|construccion|pavimento|asfalto|adoquin\w*|acera|senal\w*|rotulo|semaforo"
    r"|paso a desnivel|bordo|via|vias|autopista|tuberia rota|colector|badén|baden|vado)\b"
)
_SERVICE_RULES = {name: re.compile(rf"\b(?:{pattern})") for name, pattern in _SERVICE_WORDS.items()}


def out_of_scope_kind(text: str) -> Kind | None:
    """What a text is when it is not a report (thanks, praise, a greeting, noise); None when it
    may be one."""
    folded = fold(text)
    tokens = words(text)
    if not tokens or not looks_like_words(text):
        return Kind.GREETING if tokens and _HAS_GREETING.match(" ".join(tokens)) else Kind.NOISE
    plain = " ".join(tokens)
    if _COURTESY.match(plain):
        if _HAS_THANKS.search(plain):
            return Kind.THANKS
        if _HAS_PRAISE.search(plain):
            return Kind.PRAISE
        if _HAS_GREETING.match(plain):
            return Kind.GREETING
        return Kind.NOISE
    if len(tokens) == 1 or all(_LAUGHTER.match(t) for t in tokens):
        return Kind.NOISE
    if len([t for t in tokens if len(t) > 1]) < 2 or not folded.strip():
        return Kind.NOISE
    return None


def in_scope(text: str, classification: Classification | None = None) -> bool:
    """Whether a text can be a report at all. The classification is not needed by the rules
    (they are the floor); it is taken so that a model that learns out-of-scope texts can be
    heeded here too."""
    return out_of_scope_kind(text) is None


def other_service(text: str) -> str | None:
    """The service (one of SERVICES) a text is about when it is not public works, else None."""
    folded = fold(text)
    if _PUBLIC_WORKS.search(folded):
        return None
    found = [name for name, rule in _SERVICE_RULES.items() if rule.search(folded)]
    return found[0] if found else None
