"""The exact labels of spec section 5: lower-case ASCII, relied on from outside."""

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
GENDERS = ("mujer", "hombre", "otro", "sin_dato")
