"""Explicit emergency rules: phrasings that are an emergency whatever the model says."""

from __future__ import annotations

import re

# Everything here matches folded text (lower case, no accents; see handlers.core.normalise.fold).
_GAP = r"\W+(?:\w+\W+){0,8}?"  # up to eight words between the two halves of a rule
_NEAR = r" +(?:\w+ +){0,4}?"  # up to four words, within one clause

_LANDSLIDE = (
    r"(?:derrumb\w*|desliz\w*|deslav\w*|alud\w*|avalancha|desplom\w*|lodo|piedras|tierra"
    r"|cerro|monta[nñ]a|ladera|paredon|talud|loma|barranco)"
)
# ... falling on, burying or carrying away dwellings (an active landslide over houses)
_OVER = (
    r"(?:sobre|encima de|encima del|soterr\w*|sepult\w*|enterr\w*|tapo|aplast\w*|se llevo"
    r"|se esta llevando|arraso|destruyo|tumbo|derribo|entro a)"
)
_DWELLINGS = (
    r"(?:casas?|casitas?|viviendas?|escuela|ranchos?|champas?|hogares|familias?|gente|personas"
    r"|asentamiento|caserio|carros con gente)"
)
_BURIED = r"(?:soterrad\w*|sepultad\w*|enterrad\w*|aplastad\w*|bajo (?:el lodo|la tierra))"
_BRIDGE = r"(?:puente\w*|pasarela|hamaca)"
_COLLAPSING = (
    r"(?:se (?:cayo|callo|esta cayendo|esta callendo|vino abajo|viene abajo|desplom\w*|derrumb\w*"
    r"|quebr\w*|partio|esta partiendo|parte|hundio|esta hundiendo|esta doblando|doblo|rompio"
    r"|acaba de caer)|colaps\w*|cedio|esta cediendo|doblandose|crujiendo"
    r"|se lo (?:llevo|esta llevando|lleva) (?:el|la) \w+)"
)
# "Se está cayendo a pedazos" is decay, not a collapse.
# The railing or the boards of a bridge falling off is urgent, not the bridge collapsing.
_PART = (
    r"(?:(?:la|las|el|los|una|un|unas|unos) )?(?:barand\w*|tablas?|laminas?|gradas?|rotulos?|luz"
    r"|luces|pedazos?|pedacitos?|trozos?|partes?)"
)
_SLOWLY = re.compile(
    r"\bse (?:esta )?(?:cayendo|callendo|cae) (?:a pedazos|de viejo|poco a poco|de a poquito)\b"
)
_PEOPLE = (
    r"(?:gente|personas?|se[nñ]or\w*|ni[nñ][oa]s?|bebes?|cipot\w*|bich[oa]s?|familias?"
    r"|alguien|hombres?|mujer\w*|muchach\w*|vecin\w*|pasajeros|estudiantes|ancian\w*|hij[oa]s?"
    r"|papa|mama|abuel\w*|trabajador\w*|motociclista|conductor|motorista)"
)
_VEHICLE = r"(?:carro|bus|microbus|moto|pick up)"
_TRAPPED = r"(?:atrapad\w*|soterrad\w*|sepultad\w*|encerrad\w* por el agua)"
_DRAGGED = (
    r"(?:arrastr\w*|se (?:lo|la|los|las) (?:llevo|esta llevando|lleva|trago)|se llevo a|se trago a"
    r"|se esta llevando a|(?:se esta|se estan|estan|esta) ahogando)"
)
_CARRIED_OFF = (
    r"(?:se (?:lo|la|los|las) (?:llevo|esta llevando|lleva|trago)|se (?:esta )?llev\w* a"
    r"|(?:llevandose|se (?:esta )?llev\w*) (?:a |las |los |un |una )?(?:casas?|carros?|bus|microbus"
    r"|pick up|gente|personas))"
)
_WATER = r"(?:agua|rio|corriente|correntada|quebrada|crecida|inundacion|tormenta|tragante|cauce)"

_RULES = (
    re.compile(rf"\b{_LANDSLIDE}{_GAP}{_OVER}\W+(?:\w+\W+){{0,3}}?{_DWELLINGS}\b"),
    re.compile(rf"\b{_DWELLINGS}{_GAP}{_BURIED}"),
    re.compile(
        r"\bse (?:cayo|cayeron|derrumbo|derrumbaron|vino abajo|vinieron abajo) (?:\w+ ){0,3}?"
        r"(?:casas?|viviendas?)\b"
    ),
    re.compile(
        rf"\bse (?:vino|vinieron|cayo|cayeron) (?:\w+\W+){{0,4}}?(?:arriba|encima|sobre) (?:de )?"
        rf"(?:\w+\W+){{0,3}}?{_DWELLINGS}\b"
    ),
    re.compile(rf"\b{_BRIDGE}{_GAP}{_COLLAPSING}(?!\W+{_PART}\b)"),
    re.compile(rf"\b{_COLLAPSING}\W+(?!{_PART})(?:\w+\W+){{0,3}}?{_BRIDGE}\b"),
    re.compile(rf"\b(?:llevo|derribo|tumbo|arrastro|se esta llevando) (?:el|la) {_BRIDGE}\b"),
    re.compile(rf"\bse trago (?:a )?(?:un|una|el|la|dos|tres)? ?(?:{_VEHICLE}|{_PEOPLE})"),
    re.compile(rf"\b{_TRAPPED}"),
    re.compile(rf"\b{_PEOPLE}{_NEAR}{_DRAGGED}"),
    re.compile(rf"\b{_DRAGGED}{_NEAR}{_PEOPLE}\b"),
    re.compile(rf"\b{_WATER}{_GAP}{_CARRIED_OFF}"),
)
# "Atrapados en el tráfico" is a bad morning, not an emergency.
_TRAFFIC = re.compile(
    r"\batrapad\w* en (?:el |un )?(?:trafico|tranque|trancon|taco|la cola)"
    r"|\b(?:carros|vehiculos|buses|camiones|rastras)(?: \w+)? atrapad\w*"
)
# What happened long ago, or what the person says is not an emergency, is not one now.
_PAST = re.compile(
    r"\b(?:hace (?:\d+|un|una|uno|dos|tres|cuatro|cinco|varios|varias|muchos|muchas|mas de \w+)"
    r" (?:dias|semanas?|mes|meses|a[nñ]os?)|el a[nñ]o pasado|el invierno pasado|la vez pasada"
    r"|en el (?:huracan|terremoto|invierno pasado)|desde (?:el|la) (?:huracan|tormenta))\b"
)
_NOW = re.compile(
    r"\b(?:ahorita|ahora mismo|en este momento|acaba de|acaban de|hace un rato|hace rato|hoy"
    r"|anoche|ahora)\b"
)
_NOT_AN_EMERGENCY = re.compile(
    r"\b(?:no es (?:una )?emergencia|no es urgente|no hay (?:peligro|herid\w*|personas atrapad\w*)"
    r"|nadie (?:atrapad|herid|salio herid)\w*|ningun herid\w*|sin herid\w*|gracias a dios no paso"
    r" nada|no paso a mayores)"
)


def is_emergency(folded: str) -> bool:
    """Whether the text describes one of the explicit emergencies, happening now."""
    if denies_emergency(folded):
        return False
    text = _SLOWLY.sub(" ", _TRAFFIC.sub(" ", folded))
    return any(rule.search(text) for rule in _RULES)


def says_not_an_emergency(folded: str) -> bool:
    """Whether the person says in so many words that there is no emergency."""
    return bool(_NOT_AN_EMERGENCY.search(folded))


def denies_emergency(folded: str) -> bool:
    """Whether the person says there is no emergency, or that it happened long ago."""
    past = _PAST.search(folded) and not _NOW.search(folded)
    return bool(_NOT_AN_EMERGENCY.search(folded) or past)
