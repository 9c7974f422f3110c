"""The gazetteer: the institution's administrative units, and the unit a typed place or a pin
falls in. See docs/places.md for the file format and its limits."""

from __future__ import annotations

import csv
import difflib
import io
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from handlers.core.normalise import fold, words

MAX_PLACE = 120  # the length of cases.municipality
DEFAULT_RADIUS_KM = 15.0
# Below this similarity a typed name is not taken for a unit's name ("ahuachpan" is 0.95).
FUZZY_RATIO = 0.85
FUZZY_MIN_LETTERS = 6  # shorter names must be typed exactly: too many short words look alike

# Words said before an answer that are no part of it: "pues", "la verdad", "mire".
_FILLER = (
    r"(?:pues|bueno|mire|f[ií]jese(?:\s+que)?|la\s+verdad(?:\s+es\s+que)?|sinceramente"
    r"|este|eh+|ay|uy|h[ií]jole|ah+|mm+|disculpe|perd[oó]n|o\s+sea|pero|aunque|entonces)"
)
# Not knowing where, said at the start of a place in its common forms ("no sé", "ni idea", "no
# le sé decir", "la verdad no sé", "no me acuerdo", "no sé bien"), alone or before the landmark
# that follows it ("no sé, cerca del río").
NOT_KNOWING = re.compile(
    rf"^\W*(?:{_FILLER}\W+)*"
    r"(?:no\s+(?:(?:le|lo|les|te)\s+)?(?:s[eé]|sabr[ií]a|sabemos|conozco|recuerdo|recordamos"
    r"|me\s+acuerdo|nos\s+acordamos|estoy\s+segur[oa]|estamos\s+segur[oa]s"
    r"|(?:tengo|tenemos)\s+(?:ni\s+)?(?:la\s+(?:menor|m[aá]s\s+m[ií]nima)\s+)?idea)"
    r"|ni\s+idea|ni\s+s[eé]|(?:lo\s+)?desconozco|qui[eé]n\s+sabe|sabe\s+dios|sepa(?:\s+dios)?"
    r"|se\s+me\s+olvid[oó]|lo\s+olvid[eé])"
    r"(?:\s+(?:bien|muy\s+bien|exactamente|con\s+exactitud|decir(?:le|les|te)?"
    r"|d[oó]nde(?:\s+(?:es|queda|est[aá]|fue))?|la\s+direcci[oó]n|el\s+nombre|del\s+nombre"
    r"|c[oó]mo\s+se\s+llama|el\s+lugar))*"
    r"\b\W*",
    re.IGNORECASE,
)
# A hedge before a place ("creo que por la escuela"): no part of a town's name.
_HEDGE = re.compile(
    r"^\W*(?:creo\s+que|creo|pienso\s+que|me\s+parece\s+que|puede\s+ser\s+que|tal\s+vez"
    r"|talvez|quiz[aá]s?|a\s+lo\s+mejor|supongo\s+que|me\s+imagino\s+que|probablemente"
    r"|seguramente|como\s+que)\b\W*",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(rf"^\W*{_FILLER}\b\W*", re.IGNORECASE)


def without_not_knowing(text: str) -> str:
    """What a place answer says after not knowing it: "no sé, cerca del río" → "cerca del
    río"; "" for a bare "no sé" (or "la verdad no sé", "no me acuerdo"...)."""
    return NOT_KNOWING.sub("", text, count=1).strip()


# Words after which a name is a neighbourhood, a street or a building, not the town: "colonia
# San Antonio", "barrio San Miguel", "calle La Libertad", "escuela San José".
_NOT_A_TOWN = frozenset(
    [
        "colonia",
        "col",
        "barrio",
        "bo",
        "caserio",
        "canton",
        "cton",
        "residencial",
        "res",
        "urbanizacion",
        "urb",
        "reparto",
        "comunidad",
        "lotificacion",
        "condominio",
        "pasaje",
        "pje",
        "calle",
        "cl",
        "avenida",
        "av",
        "ave",
        "carrera",
        "cra",
        "kr",
        "diagonal",
        "transversal",
        "bulevar",
        "boulevard",
        "blvd",
        "carretera",
        "autopista",
        "km",
        "kilometro",
        "escuela",
        "instituto",
        "colegio",
        "parque",
        "iglesia",
        "hospital",
        "clinica",
        "mercado",
        "centro",
        "puente",
        "rio",
        "quebrada",
        "finca",
        "hacienda",
        "hotel",
        "restaurante",
        "plaza",
        "estadio",
        "cementerio",
    ]
)
# Buildings and landmarks whose "de" names the town they are in: "el mercado de Apopa", "la
# escuela de Soyapango" (but "escuela San José" is the school's name). Not churches: "la iglesia
# de Dolores" is its saint's; nor streets and neighbourhoods ("colonia de San Antonio").
_OF_THE_TOWN = frozenset(
    [
        "escuela",
        "instituto",
        "colegio",
        "parque",
        "hospital",
        "clinica",
        "mercado",
        "centro",
        "puente",
        "plaza",
        "estadio",
        "cementerio",
        "hotel",
        "restaurante",
    ]
)
_LINKS = frozenset({"el", "la", "los", "las", "de", "del"})
# "Santa Tecla o Colón": either of two places.
_OR = frozenset({"o", "u"})
# Words that say the next words are the place: "en Apopa", "municipio de Mejicanos".
_PLACE_MARKERS = frozenset(
    [
        "en",
        "de",
        "del",
        "desde",
        "municipio",
        "municipalidad",
        "distrito",
        "departamento",
        "localidad",
        "ciudad",
        "pueblo",
    ]
)
# Unit names that are also ordinary words or common place names elsewhere: they count only
# typed exactly, at the start of what was written (or after "en", "municipio de"...), or
# when the department named beside them agrees.
_COMMON = frozenset(
    fold(name)
    for name in (
        "Victoria",
        "Dolores",
        "California",
        "Candelaria",
        "Sociedad",
        "Corinto",
        "Guadalupe",
        "Carolina",
        "Alegría",
        "Berlín",
        "Colón",
        "Armenia",
        "La Palma",
        "La Reina",
        "La Laguna",
        "El Paraíso",
        "Las Vueltas",
        "Ojos de Agua",
        "Agua Caliente",
        "El Carmen",
        "El Rosario",
        "San Rafael",
        "Santa Rita",
        "La Unión",
        "La Libertad",
        "El Sauce",
        "El Congo",
        "El Refugio",
        "El Triunfo",
        "El Tránsito",
        "El Divisadero",
        "El Porvenir",
        "Santa Elena",
        "Santa María",
        "Santa Clara",
        "Las Flores",
        "La Fuente",
        "Bolívar",
        "Jerusalén",
        "Verapaz",
        "Lourdes",
        "Santo Domingo",
        "San Isidro",
        "San Carlos",
        "San Jorge",
        "San Marcos",
        "San Martín",
        "San Sebastián",
        "San Cristóbal",
        "San Ramón",
        "San Lorenzo",
        "San Fernando",
        "San Simón",
        "Meanguera",
        "Santa Fe",
        "Barrios Unidos",
        "La Candelaria",
        "Los Mártires",
        "Mártires",
        "Puente Aranda",
    )
)


@dataclass(frozen=True)
class Unit:
    """One row of the gazetteer: the smallest unit, with the units it belongs to."""

    department: str
    municipality: str
    district: str | None
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float = DEFAULT_RADIUS_KM


@dataclass(frozen=True)
class Place:
    """Where a case happened, as far as the gazetteer tells: the municipality is the name the
    reports count by; the district is kept beside it (El Salvador)."""

    municipality: str | None
    district: str | None = None
    department: str | None = None

    @property
    def matched(self) -> bool:
        return self.municipality is not None


@dataclass(frozen=True, eq=False)  # each name is one object: compared and hashed as itself
class _Name:
    tokens: tuple[str, ...]
    level: int  # 0: district, 1: municipality, 2: department
    units: tuple[Unit, ...]
    common: bool
    order: int  # its place in the gazetteer: among equally good matches, the first wins


@dataclass(frozen=True)
class _Hit:
    name: _Name
    start: int
    end: int
    exact: bool


class Gazetteer:
    """The administrative units of one institution, read from a CSV (docs/places.md)."""

    def __init__(self, units: Iterable[Unit], aliases: dict[Unit, tuple[str, ...]] | None = None):
        self.units = tuple(units)
        aliases = aliases or {}
        grouped: dict[tuple[tuple[str, ...], int], list[Unit]] = {}

        def add(name: str, level: int, unit: Unit) -> None:
            tokens = tuple(words(name))
            if tokens:
                grouped.setdefault((tokens, level), []).append(unit)

        for unit in self.units:
            if unit.district:
                add(unit.district, 0, unit)
                for alias in aliases.get(unit, ()):
                    add(alias, 0, unit)
            else:
                for alias in aliases.get(unit, ()):
                    add(alias, 1, unit)
            add(unit.municipality, 1, unit)
            add(unit.department, 2, unit)
        self._names = [
            _Name(tokens, level, tuple(dict.fromkeys(units)), " ".join(tokens) in _COMMON, order)
            for order, ((tokens, level), units) in enumerate(grouped.items())
        ]
        self._by_first: dict[str, list[_Name]] = {}
        for name in self._names:
            self._by_first.setdefault(name.tokens[0], []).append(name)
        # Typos are rarely in the first letter: only names starting like the typed word are
        # compared, and only those long enough to tell apart; grouped by their first word, which
        # many share ("san", "santa"), so that each is compared with the typed word once.
        self._by_letter: dict[str, dict[str, list[_Name]]] = {}
        for name in self._names:
            if len("".join(name.tokens)) >= FUZZY_MIN_LETTERS:
                first = name.tokens[0]
                self._by_letter.setdefault(first[0], {}).setdefault(first, []).append(name)
        self._seats = [u for u in self.units if u.latitude is not None and u.longitude is not None]

    def __bool__(self) -> bool:
        return bool(self.units)

    @property
    def municipalities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(unit.municipality for unit in self.units))

    # -- typed places ---------------------------------------------------------------------

    def match(self, text: str | None) -> Place | None:
        """The unit a typed place names, despite accents, typos and extra words; None when it
        names none, or several that the text does not tell apart."""
        tokens = words(text or "")
        if not tokens:
            return None
        hits = self._hits(tokens, _starts(text or "", tokens))
        if not hits:
            return None
        departments = {
            unit.department for hit in hits if hit.name.level == 2 for unit in hit.name.units
        }
        candidates = []
        for hit in hits:
            if hit.name.level == 2:
                continue
            units = [u for u in hit.name.units if u.department in departments]
            units = units or list(hit.name.units)
            if len({u.municipality for u in units}) == 1:  # "El Rosario": three, none told
                candidates.append((hit, units))
        # "Santa Tecla o Colón": the person is not sure which; one municipality if both are in
        # it, else none (the department, if both share it).
        either = [
            (a, b)
            for a in candidates
            for b in candidates
            if b[0].start > a[0].end
            and tokens[a[0].end] in _OR
            and all(t in _PLACE_MARKERS or t in _LINKS for t in tokens[a[0].end + 1 : b[0].start])
        ]
        if either:
            units = [units[0] for pair in either for _, units in pair]
            if len({u.municipality for u in units}) == 1:
                return Place(units[0].municipality, None, units[0].department)
            shared = {u.department for u in units}
            return Place(None, None, shared.pop()) if len(shared) == 1 else None
        best: tuple[tuple, Place] | None = None
        for hit, units in candidates:
            # A name that is also a department's ("San Vicente"), beside another town, is the
            # department of that town: "San Lorenzo, San Vicente".
            span = (hit.start, hit.end)
            also_department = any(h.name.level == 2 and (h.start, h.end) == span for h in hits)
            if also_department and any((h.start, h.end) != span for h, _ in candidates):
                continue
            unit = units[0]
            district = unit.district if hit.name.level == 0 and len(units) == 1 else None
            place = Place(unit.municipality, district, unit.department)
            rank = (hit.exact, hit.end - hit.start, hit.name.level == 0, -hit.start)
            if best is None or rank > best[0]:
                best = (rank, place)
        if best is not None:
            return best[1]
        if len(departments) == 1:
            return Place(None, None, departments.pop())
        return None

    def _hits(self, tokens: list[str], starts: set[int]) -> list[_Hit]:
        hits = []
        for i, token in enumerate(tokens):
            marker, of = _marker_before(tokens, i)
            if marker is not None and not (of and marker in _OF_THE_TOWN):
                continue
            # After "el mercado de", a name that is also an ordinary word is the building's.
            at_start = i in starts and marker is None
            exact = [name for name in self._by_first.get(token, ()) if _at(tokens, i, name)]
            for name in exact:
                if name.common and not at_start:
                    continue
                hits.append(_Hit(name, i, i + len(name.tokens), True))
            typos = []
            for first, names in self._by_letter.get(token[0], {}).items():
                if not _like(token, first):
                    continue
                for name in names:
                    if name in exact or name.common or len(name.tokens) > len(tokens) - i:
                        continue
                    typed = tokens[i + 1 : i + len(name.tokens)]
                    if all(_like(a, b) for a, b in zip(typed, name.tokens[1:], strict=True)):
                        typos.append(name)
            typos.sort(key=lambda name: name.order)  # the gazetteer's order, not the groups'
            hits += [_Hit(name, i, i + len(name.tokens), False) for name in typos]
        return hits

    # -- pins -----------------------------------------------------------------------------

    def nearest(self, latitude: float, longitude: float) -> Place | None:
        """The unit whose seat is nearest a pin, if within that seat's radius; else None (a pin
        at sea or in another country)."""
        best: tuple[float, Unit] | None = None
        for unit in self._seats:
            distance = _km(latitude, longitude, unit.latitude, unit.longitude)
            if distance <= unit.radius_km and (best is None or distance < best[0]):
                best = (distance, unit)
        if best is None:
            return None
        unit = best[1]
        return Place(unit.municipality, unit.district, unit.department)

    # -- both -----------------------------------------------------------------------------

    def locate(
        self,
        text: str | None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> Place:
        """Where a case happened: the unit the text names, else the pin's, else the place as
        written (not matched: municipality is the text's first part, or None)."""
        found = self.match(text)
        if found is not None and found.matched:
            return found
        if latitude is not None and longitude is not None:
            pinned = self.nearest(latitude, longitude)
            if pinned is not None:
                return pinned
        department = found.department if found is not None else None
        return Place(place_as_written(text or ""), None, department)


def _at(tokens: list[str], i: int, name: _Name) -> bool:
    return tuple(tokens[i : i + len(name.tokens)]) == name.tokens


def _like(typed: str, known: str) -> bool:
    """Whether a typed word is a known word, or a typo of it (words of four letters or fewer
    must be exact)."""
    if typed == known:
        return True
    if len(known) <= 4 or abs(len(typed) - len(known)) > 2:
        return False
    return _typo(typed, known)


# People write the same few hundred places: each pair of words is compared once. Only words
# within two letters of a known name's get here, so the cache holds short, place-like words.
@lru_cache(maxsize=4096)
def _typo(typed: str, known: str) -> bool:
    matcher = difflib.SequenceMatcher(None, typed, known, autojunk=False)
    return matcher.quick_ratio() >= FUZZY_RATIO and matcher.ratio() >= FUZZY_RATIO


def _marker_before(tokens: list[str], i: int) -> tuple[str | None, bool]:
    """The word of _NOT_A_TOWN the word at i follows ("colonia", "calle", "mercado"...), with
    "el", "la", "de" between, or None; and whether "de" or "del" is between ("el mercado de
    Apopa")."""
    j = i - 1
    while j >= 0 and tokens[j] in _LINKS:
        j -= 1
    if j >= 0 and tokens[j] in _NOT_A_TOWN:
        return tokens[j], any(t in ("de", "del") for t in tokens[j + 1 : i])
    return None, False


def _starts(text: str, tokens: list[str]) -> set[int]:
    """The word positions where a place may begin: the start of the text or of a part after a
    comma, a full stop or a line break, and after "en", "municipio de", "distrito de"."""
    starts = set()
    position = 0
    for part in re.split(r"[,;\n.()]", text):
        part_tokens = words(part)
        if part_tokens:
            starts.add(position)
        position += len(part_tokens)
    for i, token in enumerate(tokens):
        if token in _PLACE_MARKERS or token in _OR:
            starts.add(i + 1)
    # "en el municipio de X": let the markers chain.
    for i in sorted(starts):
        j = i
        while j < len(tokens) and (tokens[j] in _PLACE_MARKERS or tokens[j] in _LINKS):
            j += 1
            starts.add(j)
    return starts


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# Words that end the name of a place as written, or show there was none: where it is from
# here ("aquí", "allá", "cerca", "frente", "a la par"), a sentence ("donde", "que", "mi"),
# a hesitation ("pues", "creo", "no").
_NOT_A_NAME = frozenset(
    [
        "aqui",
        "aca",
        "alla",
        "alli",
        "ahi",
        "donde",
        "adonde",
        "onde",
        "por",
        "cerca",
        "frente",
        "enfrente",
        "delante",
        "adelante",
        "detras",
        "atras",
        "junto",
        "lado",
        "par",
        "vuelta",
        "que",
        "mi",
        "mis",
        "tu",
        "tus",
        "su",
        "sus",
        "nuestro",
        "nuestra",
        "nuestros",
        "nuestras",
        "nomas",
        "no",
        "ni",
        "se",
        "creo",
        "tal",
        "talvez",
        "quiza",
        "quizas",
        "pues",
        "entre",
        "hacia",
        "rumbo",
        "pasando",
        "saliendo",
        "entrando",
        "llegando",
        "antes",
        "despues",
        "arriba",
        "abajo",
        "adentro",
        "dentro",
        "afuera",
        "fuera",
        "casi",
        "como",
        "y",
        "o",
        "u",
        "a",
        "al",
        "en",
        "hasta",
        "desde",
        "para",
        "sobre",
        "bajo",
        "con",
        "sin",
        "mismo",
        "misma",
        "pero",
        "aunque",
    ]
)
# Words a place's name does not start with: a verb, a demonstrative, an answer word ("hay un
# hoyo", "esta calle", "sí, ...").
_NOT_A_NAME_START = frozenset(
    [
        "hay",
        "es",
        "esta",
        "este",
        "estan",
        "ese",
        "esa",
        "eso",
        "esto",
        "aquel",
        "aquella",
        "aquello",
        "queda",
        "quedan",
        "fue",
        "era",
        "vivo",
        "vive",
        "viven",
        "vivimos",
        "estoy",
        "estamos",
        "ocurre",
        "ocurrio",
        "paso",
        "pasa",
        "sucede",
        "sucedio",
        "mire",
        "bueno",
        "ya",
        "si",
        "ok",
        "un",
        "una",
        "unos",
        "unas",
        "todo",
        "toda",
        "todos",
        "todas",
        "cualquier",
        "cualquiera",
        "otro",
        "otra",
        "de",
        "del",
    ]
)
# Buildings and landmarks besides those of _NOT_A_TOWN: "la tienda de doña Rosa" is no town.
_LANDMARKS = frozenset(
    [
        "casa",
        "tienda",
        "alcaldia",
        "gasolinera",
        "farmacia",
        "cancha",
        "entrada",
        "salida",
        "esquina",
        "curva",
        "desvio",
        "parada",
        "terminal",
        "kinder",
        "cantina",
        "pupuseria",
        "panaderia",
        "ferreteria",
        "bodega",
        "fabrica",
        "super",
        "supermercado",
        "banco",
        "camino",
        "final",
        "orilla",
        "bajada",
        "subida",
        "cuadra",
        "manzana",
        "vecindario",
        "lugar",
    ]
)
_ARTICLES = frozenset({"el", "la", "los", "las"})


def _name_as_written(text: str) -> list[str] | None:
    """The words of the place a text names, as written, when it names one: its first part,
    without not knowing, hedges and fillers before it ("no sé, creo que Villa Galicia"), and
    up to where it says where from there ("Villa Galicia por la escuela"); None when there is
    no name: "aquí en mi casa", "a la par de la alcaldía", "donde siempre se inunda", "la verdad
    no sé", "Santa Tecla o Colón" (either)."""
    said = text
    while True:
        shorter = _LEADING_FILLER.sub("", _HEDGE.sub("", without_not_knowing(said), count=1))
        if shorter == said:
            break
        said = shorter
    first = re.split(r"[,;:\n.…()¿?¡!]", said, maxsplit=1)[0].strip()
    first = re.sub(
        r"^(en\s+(el\s+)?)?(municipio|municipalidad|distrito|localidad|departamento)\s+(de\s+)?",
        "",
        first,
        flags=re.IGNORECASE,
    ).strip()
    first = re.sub(r"^(en|desde)\s+", "", first, flags=re.IGNORECASE)
    name: list[str] = []
    for word in first.split():
        folded = fold(word).strip("\"'«»-")
        if folded in _OR:
            return None  # one place or another: the person is not sure
        if folded in _NOT_A_NAME or (not name and folded in _NOT_A_NAME_START):
            break
        name.append(word)
    return name or None


def names_a_place(text: str) -> bool:
    """Whether a text names a place, if not one of the gazetteer's: not when it only says where
    from here ("aquí", "a la par de", "donde…"), or not knowing ("la verdad no sé")."""
    return _name_as_written(text) is not None


def place_as_written(text: str) -> str | None:
    """The place in "Villa Galicia, pasaje 3" when the gazetteer knows none: the name its
    first part starts with, unless that is a neighbourhood, a street or a landmark ("colonia Las
    Brisas", "la tienda de doña Rosa"), or no name at all (see _name_as_written). A best effort
    that staff can correct."""
    name = _name_as_written(text)
    if name is None:
        return None
    content = [fold(w) for w in name]
    while content and content[0] in _ARTICLES:
        content.pop(0)
    if not content or content[0] in _NOT_A_TOWN or content[0] in _LANDMARKS:
        return None
    titled = [w if i and fold(w) in _LINKS else w[:1].upper() + w[1:] for i, w in enumerate(name)]
    return " ".join(titled)[:MAX_PLACE]


class GazetteerError(ValueError):
    """A gazetteer file that cannot be read: says the line and why."""


def parse_gazetteer(text: str, source: str = "gazetteer") -> Gazetteer:
    """A gazetteer from CSV text: lines starting with "#" are comments; the header names
    department, municipality, district, latitude, longitude, radius_km, aliases (the last four
    may be empty or missing)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing = {"department", "municipality"} - set(reader.fieldnames or ())
    if missing:
        raise GazetteerError(f"{source}: missing columns {', '.join(sorted(missing))}")
    units, aliases = [], {}
    for number, row in enumerate(reader, 2):
        try:
            department = (row.get("department") or "").strip()
            municipality = (row.get("municipality") or "").strip()
            if not department or not municipality:
                raise ValueError("department and municipality are required")
            lat, lon = (row.get("latitude") or "").strip(), (row.get("longitude") or "").strip()
            radius = (row.get("radius_km") or "").strip()
            unit = Unit(
                department,
                municipality,
                (row.get("district") or "").strip() or None,
                float(lat) if lat else None,
                float(lon) if lon else None,
                float(radius) if radius else DEFAULT_RADIUS_KM,
            )
        except (ValueError, TypeError) as exc:
            raise GazetteerError(f"{source}, row {number}: {exc}") from exc
        units.append(unit)
        names = tuple(a.strip() for a in (row.get("aliases") or "").split("|") if a.strip())
        if names:
            aliases[unit] = names
    return Gazetteer(units, aliases)


BUILT_IN = {"SV": "sv.csv", "CO": "co.csv"}


@cache
def built_in_gazetteer(country: str) -> Gazetteer:
    """The gazetteer shipped for a country code (empty for a country without one)."""
    filename = BUILT_IN.get(country.upper())
    if filename is None:
        return Gazetteer(())
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    return parse_gazetteer(text, filename)


def load_gazetteer(country: str, path: str | Path | None = None) -> Gazetteer:
    """The gazetteer from `institution.gazetteer` when set, else the one shipped for
    `institution.country`."""
    if path:
        return parse_gazetteer(Path(path).read_text(encoding="utf-8"), str(path))
    return built_in_gazetteer(country)
