"""The exact labels of spec section 5: lower-case ASCII, relied on from outside; and the words
people read for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.core.texts import Texts

CASE_TYPES = ("solicitud", "consulta", "queja", "reclamo", "denuncia", "sugerencia")
DEFAULT_TOPICS = (
    "calles_caminos",
    "puentes",
    "drenaje",
    "deslizamientos",
    "senalizacion_seguridad_vial",
    "transporte_publico",
    "obras_en_ejecucion",
    "otro",
)
URGENCIES = ("normal", "urgente", "emergencia")
STATUSES = (
    "recibido",
    "en_revision",
    "asignado",
    "en_proceso",
    "esperando_ciudadano",
    "remitido",
    "resuelto",
    "cerrado",
    "descartado",
)
OPEN_STATUSES = tuple(s for s in STATUSES if s not in ("resuelto", "cerrado", "descartado"))
CHANNELS = ("whatsapp", "telegram", "telefono", "presencial", "console")
ROLES = ("agent", "supervisor", "admin")
# Staff roles as people say them; the codes above stay accepted (spec section 5).
ROLE_WORDS = {
    "agente": "agent",
    "supervisor": "supervisor",
    "supervisora": "supervisor",
    "administrador": "admin",
    "administradora": "admin",
}
GENDERS = ("mujer", "hombre", "otro", "sin_dato")


def role_code(word: str) -> str | None:
    """The role a word names: `agente`, `supervisora`, `administrador`... or the code itself."""
    word = word.strip().lower()
    return word if word in ROLES else ROLE_WORDS.get(word)


def staff_label(texts: Texts, kind: str, code: str) -> str:
    """The words staff read for a type, topic, status, urgency, channel or role code:
    `labels.staff.<kind>` where staff need other words than citizens ("Esperando al ciudadano"),
    else `labels.<kind>`, else the code's own words (a configured topic without a name)."""
    for key in (f"labels.staff.{kind}.{code}", f"labels.{kind}.{code}"):
        if texts.has(key):
            return texts(key)
    return code.replace("_", " ")
