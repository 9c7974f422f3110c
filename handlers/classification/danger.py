"""Signs of danger in a text, so that an emergency does not hang on one classifier decision.

The signals are categories of danger, not phrases: what harms people (trapped, injured, dragged
away, fire, a collapse, water rising), who is exposed (people), and when (now). A strong signal
asks on its own; a weak one (water, something fell, a cable) asks only together with people or
with "now". The dialogue then asks one question ("¿Hay personas en peligro en este momento?").
Everything matches folded text (lower case, no accents; see handlers.core.normalise.fold) with
repeated letters squeezed, so "AUXILIOOO" and "se derrumbó" read as "auxilioo" and "se derrumbo".
"""

from __future__ import annotations

import re
from enum import StrEnum

from handlers.classification.urgency import denies_emergency, says_not_an_emergency
from handlers.core.normalise import fold
from handlers.core.ports import Classification

MAX_CHARS = 8000  # what is read of a long message; the signals are usually at its start


class Signal(StrEnum):
    """A category of danger found in a text."""

    TRAPPED = "trapped"  # atrapado, soterrado, no puede salir
    INJURED = "injured"  # herido, sangre, inconsciente, muerto
    DRAGGED = "dragged"  # the water took someone or something: se lo llevó, arrastró, ahogando
    FIRE = "fire"  # incendio, fuego, humo, explosión, fuga de gas
    COLLAPSE = "collapse"  # derrumbe, colapsó, se desplomó, se vino abajo, se hundió
    CALL = "call"  # auxilio, socorro, ayuda urgente
    WATER = "water"  # crecida, inundación, se desbordó, correntada (weak)
    FALLEN = "fallen"  # se cayó, cable caído, árbol caído, grieta grande (weak)
    PEOPLE = "people"  # gente, personas, niños, un señor, vecinos (context)
    NOW = "now"  # ahorita, en este momento, ya, urgente (context)


STRONG = frozenset(
    {
        Signal.TRAPPED,
        Signal.INJURED,
        Signal.DRAGGED,
        Signal.FIRE,
        Signal.COLLAPSE,
        Signal.CALL,
    }
)
WEAK = frozenset({Signal.WATER, Signal.FALLEN})
CONTEXT = frozenset({Signal.PEOPLE, Signal.NOW})
# Score needed to ask: a strong signal (2), or a weak one (1) with people or now (1 each).
DEFAULT_THRESHOLD = 2

_W = r"\w*"
_PATTERNS: dict[Signal, str] = {
    Signal.TRAPPED: (
        rf"atrapad{_W}|atrapo a|soterrad{_W}|sepultad{_W}|enterrad{_W}|aplastad{_W}|aprisionad{_W}"
        r"|no (?:puede|pueden|podemos|pude) salir|quedo? adentro|quedaron adentro|debajo de los"
        r" escombros|bajo los escombros|encerrad\w* por el agua|rodead\w* de agua|ilhad\w*"
        r"|aislad\w* por el agua|no (?:lo|la|los|las) (?:pueden|podemos) sacar"
        r"|no se (?:puede|pueden|podemos) mover|(?:en|sobre) (?:el|los) techos?|encaramad\w*"
        r"|subid[oa]s? (?:en|a) (?:el|los|la|las) (?:techos?|terrazas?|arboles?|segundo piso)"
        r"|sin poder (?:bajar|salir)|atascad[oa]s? (?:en|con)"
    ),
    Signal.INJURED: (
        rf"herid{_W}|lesionad{_W}|golpead{_W}|sangr{_W}|inconsciente|desmayad{_W}|fracturad{_W}"
        rf"|quebro la pierna|muert[oa]s?|fallecid{_W}|cadaver{_W}|sin vida|electrocut{_W}"
        rf"|le (?:dio|pego) la corriente|ambulancia|accidentad{_W}|atropell{_W}|quemad[oa]s?"
        r"|se (?:ahogo|ahogan|ahoga)|ahogad\w*"
    ),
    Signal.DRAGGED: (
        r"se (?:lo|la|los|las|le) (?:llevo|lleva|esta llevando|trago|jalo)|se llevo (?:a|al|el|la"
        r"|los|las|un|una)|se esta llevando|se estan llevando|llevandose|ahogando"
        r"|se (?:esta|estan) ahog\w*|se (?:cayo|callo) al (?:rio|agua|canal|barranco|pozo|hoyo"
        r"|tragante)"
        r"|cayo al (?:rio|agua|canal|barranco|pozo|tragante)|desaparecid\w* en el (?:rio|agua)"
        r"|se lo trago|se la trago|corriente se (?:lo|la)"
    ),
    Signal.FIRE: (
        r"incendi\w*|fuego|llamas|humo|se esta quemando|se quema|quemandose|explosion|explot\w*"
        r"|fuga de gas|olor a gas|huele a gas|chispas|cortocircuito|corto circuito"
        r"|huele \w+ a gas|olor \w+ a gas|chispea\w*|echando chispas"
    ),
    Signal.COLLAPSE: (
        r"derrumb\w*|derrunb\w*|colaps\w*|desplom\w*|se vino|se vinieron|se viene|viniendo abajo"
        r"|deslav\w*|deslizamiento|alud|avalancha|se hundio|se esta hundiendo|hundimiento|socav\w*"
        r"|se partio|se esta partiendo|cedio|esta cediendo|se rajo|se esta cayendo|se estan cayendo"
        r"|se callo la casa|se cayo la casa|se cayo el puente|se cayo el muro|se cayo la pared"
        r"|se cayo el techo|se cayo una casa|cayo el puente|cayo el muro|cayo el techo"
        r"|se (?:nos )?(?:cae|esta cayendo) (?:el|la) (?:puente|muro|pared|techo|casa|pasarela"
        r"|loma|cerro)|se (?:nos|les) (?:vino|vinieron|viene)|se desliza\w*|deslizandose"
        r"|se (?:esta|estan) deslizando|se trago (?:un|una|el|la|a)"
        r"|se cayo parte del? (?:muro|pared|techo|puente|losa)"
    ),
    Signal.CALL: (
        r"auxilio|socorro|ayuda urgente|ayudenos|ayudennos|ayudennnos|urgente ayuda|emergencia"
        r"|pidiendo ayuda|necesitamos ayuda|manden ayuda|sos\b|rescate|rescatar|bomberos"
        r"|proteccion civil|defensa civil|cruz roja"
    ),
    Signal.WATER: (
        r"crecida|creciente|crecio|esta creciendo|subio el (?:rio|agua|nivel)|sube el (?:rio|agua)"
        r"|inund\w*|desbord\w*|correntada|corriente|avenida torrencial|torrente|anegad\w*"
        r"|arrastr\w*"
        r"|el agua (?:entro|se esta metiendo|esta entrando|nos llega|llega)|se rebalso|rebalsad\w*"
        r"|(?:rio|quebrada|canal) (?:crecid|lleno|se sal)\w*"
        r"|represad\w*|se (?:nos )?(?:metio|esta metiendo|mete) (?:el )?agua|(?:entrando|metiendo"
        r"|subiendo|saliendo) (?:el )?agua|agua (?:hasta|a) (?:la rodilla|la cintura|el pecho"
        r"|medio metro)|se esta saliendo|se (?:esta|estan) (?:saliendo|rebalsando)"
        r"|revent\w*|va (?:entrando|sacando|llevando)|paso el jarillon|rompio el jarillon"
        r"|se (?:esta|estan) entrando|agua adentro|sigue subiendo|sigue creciendo"
    ),
    Signal.FALLEN: (
        r"se cayo|se callo|se cayeron|cayo|cayeron|caido|caida|caer\b|cae\b|cable\w* "
        r"(?:caido|suelto|pelado|con corriente|colgando|en el suelo)|poste caido|arbol caido"
        r"|se esta inclinando|se va a caer|a punto de caer|tambalea\w*"
        r"|cayendo|socavon|desmoron\w*"
        r"|se abrio un (?:hoyo|agujero|hueco|boquete|crater)|quedo colgando|colgando de"
        r"|se balancea\w*|rechin\w*|se bajo de un lado|se (?:ladeo|esta ladeando)|ladead\w*"
        r"|(?:rodo|se rodo|se vino) (?:la|el) (?:loma|cerro|talud|ladera|barranco|tierra)"
        r"|(?:carros|casas|gente|personas|vehiculos) (?:tapad|sepultad)\w*|quedo tapad\w*"
        r"|desprendi\w*|pende sobre|inclinad\w*"
        r"|se (?:esta|estan) (?:doblando|moviendo|torciendo|rajando|agrietando|zafando|inclinando"
        r"|deformando|yendo de lado|hundiendo|abriendo)|se mece|tronando|crujiendo|crujidos"
    ),
    Signal.PEOPLE: (
        r"gente|personas?|senor\w*|ni[nñ][oa]s?|nin[oa]s?|bebes?|cipot\w*|bich[oa]s?|pelad[oa]s?"
        r"|chamac\w*|familias?|alguien|hombres?|mujer\w*|muchach\w*|vecin\w*|pasajeros|estudiantes"
        r"|ancian\w*|hij[oa]s?|papa|mama|abuel\w*|trabajador\w*|obreros?|motociclista|conductor"
        r"|motorista|peat[oa]n\w*|un carro con|adentro|dona|don|ella|el senor|casas|viviendas"
        r"|champas?"
        r"|caserio|comunidad|asentamiento|lotificacion|escuela|centro escolar|alumnos"
        r"|carros|vehiculos|buses|bus|tractomulas?|pasan los|trafico|jornaleros"
    ),
    Signal.NOW: (
        r"ahorita|ahora mismo|ahora|en este momento|en este instante|acaba de|acaban de|ya mismo"
        r"|urgente|rapido|pronto|apurense|vengan|manden|esta pasando|estan pasando|en vivo"
        r"|hace un rato|hace rato|hace unos minutos|recien|esta noche"
        r"|se esta haciendo (?:mas )?grande|cada vez mas grande|alerta|sigue lloviendo|hoy"
        r"|hace (?:como )?(?:media hora|un momento|unos? minutos?)|siguen pasando|estamos sacando"
    ),
}
# What has lasted, or comes back, is not happening to people now: one point less, unless the
# text also says now ("desde el invierno pasado", "cada vez que llueve", "poco a poco").
_CHRONIC = re.compile(
    r"\b(?:desde hace|hace (?:\d+|un|una|dos|tres|varios|varias|muchos|muchas) (?:dias|semanas?|mes"
    r"|meses|a[nñ]os?)|desde (?:el|la) (?:invierno|tormenta|huracan|a[nñ]o)|viej[oa]s"
    r"|cada (?:vez|dia"
    r"|a[nñ]o|invierno)|siempre que|cuando llueve|poco a poco|antes del invierno|ya (?:lo|la"
    r"|los|las)"
    r" (?:limpiaron|repararon|quitaron|sacaron)|todos los (?:dias|inviernos|a[nñ]os)"
    r"|la semana pasada"
    r"|el mes pasado|el a[nñ]o pasado|el invierno pasado"
    # Works and studies about an event, and what may happen when it rains, are asked about later.
    r"|cuando (?:vengan|vuelvan|lleguen|empiecen|caigan) (?:las )?(?:lluvias|aguas)|cuando llueva"
    r"|obras? de (?:mitigacion|contencion)|estudios? del|muros? de contencion|que paso con"
    r"|cuando (?:empiezan|inician|comienzan|vienen)|ya vinieron|video|noticias|jaja)"
)
# What the person says is settled, or not real, takes a point even with "now" ("ya lo atendió
# el IDIGER, ahora quiero saber...", "no hagan caso, me equivoqué de chat").
_SETTLED = re.compile(
    r"\b(?:ya (?:lo|la|los|las) (?:atendi\w*|atendieron)|no hubo (?:muertos|heridos|victimas)"
    r"|gracias a dios (?:no|esa vez)|no ha pasado ningun|me equivoque de chat|no hagan caso"
    r"|casi (?:atropell|me estrell|nos estrell)\w*)"
)
_COMPILED = {signal: re.compile(rf"\b(?:{pattern})") for signal, pattern in _PATTERNS.items()}
_REPEATS = re.compile(r"([a-zñ])\1{2,}")
# Phrases that use the words of danger for no danger ("atrapados en el tráfico", "una lluvia de
# ideas", "la corriente eléctrica del recibo").
_HARMLESS = re.compile(
    r"\batrapad\w* en (?:el |un )?(?:trafico|tranque|trancon|taco|la cola|el tiempo)"
    r"|\b(?:recibo|factura|cobro)\w* de (?:la )?(?:luz|corriente|agua)"
    r"|\bal corriente\b|\bcuenta corriente\b|\bcorriente electrica\b|\bgastos? corrientes?\b"
)


def signals(text: str) -> frozenset[Signal]:
    """The categories of danger named in a text."""
    folded = _REPEATS.sub(r"\1\1", fold(text[:MAX_CHARS]))
    folded = _HARMLESS.sub(" ", folded)
    return frozenset(signal for signal, rule in _COMPILED.items() if rule.search(folded))


def score(found: frozenset[Signal]) -> int:
    """How much danger the signals add up to: 2 for a strong one, 1 for a weak one, and 1 each
    for people and now when there is any danger at all."""
    danger = 2 * bool(found & STRONG) + bool(found & WEAK)
    if not danger:
        return 0
    return danger + len(found & CONTEXT)


def needs_danger_check(
    text: str, classification: Classification, threshold: int = DEFAULT_THRESHOLD
) -> bool:
    """Whether to ask "¿Hay personas en peligro en este momento?" before anything else.

    True when the text's danger score reaches `threshold` and the classifier did not already
    mark it `emergencia` (an emergency marked as such takes the emergency path at once: asking
    would only delay it). Not when the person says it is not an emergency, nor when it
    happened long ago unless someone is trapped or being carried away now (see
    handlers.classification.urgency.denies_emergency)."""
    if classification.urgency == "emergencia" or not text.strip():
        return False
    found = signals(text)
    folded = _REPEATS.sub(r"\1\1", fold(text[:MAX_CHARS]))
    if says_not_an_emergency(folded):
        return False
    # Someone trapped or being carried away is happening now, whatever else is said of the past
    # ("lo de la zanja que reporté hace 3 días: un cipote se cayó adentro y no lo pueden sacar").
    if denies_emergency(folded) and not found & {Signal.TRAPPED, Signal.DRAGGED}:
        return False
    points = score(found)
    if Signal.NOW not in found and _CHRONIC.search(folded):
        points -= 1
    if _SETTLED.search(folded):
        points -= 1
    return points >= threshold
