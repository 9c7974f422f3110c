"""The citizen dialogue of spec section 6: one step per message, state kept in the database."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.cases import (
    CasePolicy,
    find_own_case,
    mentions_case,
    open_case,
    record_event,
    render_status,
)
from handlers.labels import CASE_TYPES
from handlers.messages import Incoming, Option, Reply
from handlers.normalise import fold, is_substantive, looks_like_words, words
from storage.models import Contact

YES = {"si", "s", "1", "acepto", "claro", "ok", "okay", "dale", "correcto", "yes", "bueno"}
NO = {"no", "n", "2", "cambiar", "corregir", "incorrecto"}
DONE = {
    "listo",
    "lista",
    "ya",
    "ya esta",
    "eso es todo",
    "es todo",
    "fin",
    "termine",
    "terminado",
    "nada mas",
    "enviar",
    "ya termine",
    "eso seria todo",
    "solo eso",
}
SKIP = {"omitir", "omito", "saltar", "paso", "prefiero no decir", "no decir", "ninguno"}
CANCEL = {"menu", "inicio", "cancelar", "volver", "salir", "menu principal"}
GREETINGS = {
    "hola",
    "buenas",
    "buenos dias",
    "buenas tardes",
    "buenas noches",
    "saludos",
    "hola buenas",
    "hola buenos dias",
    "hola buenas tardes",
    "hola buenas noches",
    "hey",
}
STATUS_WORDS = {"estado", "mi caso", "mis casos", "como va mi caso", "estado de mi caso"}
HELP = {"ayuda", "help", "?", "no entiendo"}
GENDER_WORDS = {
    "mujer": "mujer",
    "femenino": "mujer",
    "fem": "mujer",
    "f": "mujer",
    "senora": "mujer",
    "hombre": "hombre",
    "masculino": "hombre",
    "masc": "hombre",
    "m": "hombre",
    "varon": "hombre",
    "otro": "otro",
    "otra": "otro",
    "no binario": "otro",
    "nobinario": "otro",
}
GENDER_OPTIONS = ("mujer", "hombre", "otro")
MENU = (
    ("1", "menu_report", {"reportar", "reporte", "problema", "reportar un problema", "report"}),
    (
        "2",
        "menu_status",
        {
            "consultar",
            "consulta de caso",
            "consultar un caso",
            "caso",
            "mi caso",
            "seguimiento",
            "estado",
        },
    ),
    (
        "3",
        "menu_person",
        {"persona", "hablar", "hablar con una persona", "agente", "asesor", "humano", "operador"},
    ),
    ("4", "menu_info", {"informacion", "info", "información"}),
)


@dataclass
class Turn:
    """One incoming message being answered: who, what, and the state it moves."""

    incoming: Incoming
    contact: Contact
    message_id: int
    uow: Any
    now: datetime
    step: str
    data: dict
    replies: list[Reply] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.incoming.text.strip()

    @property
    def folded(self) -> str:
        return " ".join(words(self.incoming.text))


class Dialogue:
    """Decides what to answer; never sends anything itself (replies go to the outbox)."""

    def __init__(self, policy: CasePolicy) -> None:
        self.policy = policy
        self.t = policy.texts
        self._steps: dict[str, Callable[[Turn], None]] = {
            "menu": self._on_menu,
            "describing": self._on_describing,
            "confirm_class": self._on_confirm_class,
            "choose_type": self._on_choose_type,
            "choose_topic": self._on_choose_topic,
            "location": self._on_location,
            "anonymity": self._on_anonymity,
            "demographics": self._on_demographics,
            "await_folio": self._on_await_folio,
            "followup": self._on_followup,
        }

    def handle(
        self, incoming: Incoming, contact: Contact, message_id: int, uow: Any, now: datetime
    ) -> list[Reply]:
        """Answer one incoming message and store where the conversation now stands."""
        state = uow.conversations.get(contact.id)
        turn = Turn(
            incoming,
            contact,
            message_id,
            uow,
            now,
            step=state.step if state else "new",
            data=dict(state.data) if state else {},
        )
        if message_id not in turn.data.get("message_ids", [message_id]):
            turn.data["message_ids"] = [*turn.data["message_ids"], message_id]
        if contact.consented_at is None:
            self._before_consent(turn)
        elif not self._global_command(turn):
            self._steps.get(turn.step, self._on_menu)(turn)
        uow.conversations.save(contact.id, turn.step, turn.data, now)
        return turn.replies

    # -- helpers ---------------------------------------------------------------------------

    def _say(
        self,
        turn: Turn,
        text: str,
        options: Sequence[Option] = (),
        case_id: int | None = None,
        confidential: bool = False,
    ) -> None:
        turn.replies.append(
            Reply(
                turn.incoming.channel,
                turn.incoming.address,
                text,
                tuple(options),
                case_id,
                confidential,
            )
        )

    def _yes_no(self, yes_key: str, no_key: str) -> tuple[Option, Option]:
        return Option("1", self.t(f"dialogue.{yes_key}")), Option("2", self.t(f"dialogue.{no_key}"))

    @staticmethod
    def _answer(turn: Turn) -> bool | None:
        """True for yes, False for no, None when the answer is neither."""
        if turn.folded in YES or (turn.folded.split()[:1] and turn.folded.split()[0] in YES):
            return True
        if turn.folded in NO or (turn.folded.split()[:1] and turn.folded.split()[0] == "no"):
            return False
        return None

    def _menu_options(self) -> list[Option]:
        return [Option(key, self.t(f"dialogue.{label}")) for key, label, _ in MENU]

    def _show_menu(self, turn: Turn, intro_key: str = "dialogue.menu_intro") -> None:
        turn.step, turn.data = "menu", {}
        self._say(turn, self.t(intro_key), self._menu_options())

    def _type_options(self) -> list[Option]:
        return [
            Option(str(i), self.t(f"labels.type_hint.{name}"))
            for i, name in enumerate(CASE_TYPES, 1)
        ]

    def _topic_options(self) -> list[Option]:
        return [
            Option(str(i), self._topic_label(name)) for i, name in enumerate(self.policy.topics, 1)
        ]

    def _topic_label(self, topic: str) -> str:
        key = f"labels.topic.{topic}"
        return self.t(key) if self.t.has(key) else topic.replace("_", " ")

    # -- before consent --------------------------------------------------------------------

    def _before_consent(self, turn: Turn) -> None:
        t = self.t
        inst = self.policy.institution
        if turn.step != "consent":
            if is_substantive(turn.text) or turn.incoming.media or turn.incoming.location:
                turn.data = {"pending": self._draft_piece(turn)}
            turn.step = "consent"
            self._say(
                turn, t("dialogue.greeting", institution=inst.name, short_name=inst.short_name)
            )
            self._say(
                turn,
                t("dialogue.privacy_notice", retention_days=self.policy.retention_days),
                self._yes_no("consent_yes", "consent_no"),
            )
            return
        answer = self._answer(turn)
        if answer is None and turn.folded.startswith("acepto"):
            answer = True
        if answer is True:
            turn.contact.consented_at = turn.now
            pending = turn.data.get("pending")
            self._say(turn, t("dialogue.consent_thanks"))
            if pending:
                turn.step, turn.data = "describing", self._new_draft()
                self._add_piece(turn, pending)
                self._say(turn, t("dialogue.describe_first_ack"))
            else:
                self._show_menu(turn)
        elif answer is False:
            self._say(
                turn,
                t(
                    "dialogue.consent_refused",
                    emergency_numbers=self.policy.institution.emergency_numbers,
                ),
            )
        else:
            self._say(turn, t("dialogue.consent_again"), self._yes_no("consent_yes", "consent_no"))

    # -- anywhere --------------------------------------------------------------------------

    def _global_command(self, turn: Turn) -> bool:
        """Commands that work at any step: back to the menu, a case's status, help."""
        folded = turn.folded
        if folded in CANCEL:
            if turn.data.get("parts") or turn.data.get("media"):
                self._say(turn, self.t("dialogue.cancelled"))
            self._show_menu(turn)
            return True
        if folded in STATUS_WORDS or (
            mentions_case(turn.text) and (folded.startswith("estado") or len(folded.split()) <= 4)
        ):
            self._status(turn, turn.text)
            return True
        if folded in HELP:
            self._say(turn, self.t("dialogue.help"))
            return True
        return False

    def _status(self, turn: Turn, reference: str) -> None:
        t = self.t
        found = find_own_case(turn.uow, self.policy, turn.contact, reference)
        if found:
            case, shown_as = found
            self._say(turn, render_status(turn.uow, self.policy, case, shown_as))
        elif mentions_case(reference):
            self._say(
                turn, t("dialogue.status_not_found", example=self.policy.example_folio(turn.now))
            )
        else:
            self._list_own_cases(turn)
            return
        turn.step, turn.data = "menu", {}

    def _list_own_cases(self, turn: Turn) -> None:
        t = self.t
        cases = turn.uow.cases.for_contact(turn.contact.id)
        if cases:
            lines = [t("dialogue.status_your_cases")]
            lines += [
                t(
                    "dialogue.status_case_line",
                    folio=c.folio,
                    type=t(f"labels.type.{c.type}"),
                    status=t(f"labels.status.{c.status}"),
                )
                for c in cases[-10:]
            ]
            self._say(turn, "\n".join(lines))
        else:
            self._say(turn, t("dialogue.status_no_cases"))
        turn.step, turn.data = "await_folio", {}
        self._say(turn, t("dialogue.status_ask", example=self.policy.example_folio(turn.now)))

    # -- menu ------------------------------------------------------------------------------

    def _on_menu(self, turn: Turn) -> None:
        folded = turn.folded
        choice = next(
            (
                key
                for key, label, synonyms in MENU
                if folded == key
                or folded in synonyms
                or folded == fold(self.t(f"dialogue.{label}"))
            ),
            None,
        )
        if choice == "1":
            turn.step, turn.data = "describing", self._new_draft()
            self._say(turn, self.t("dialogue.describe_prompt"))
        elif choice == "2":
            self._list_own_cases(turn)
        elif choice == "3":
            self._say(turn, self.t("dialogue.person"))
        elif choice == "4":
            inst = self.policy.institution
            self._say(
                turn,
                self.t(
                    "dialogue.information",
                    institution=inst.name,
                    consulta=self.policy.deadline_days["consulta"],
                    solicitud=self.policy.deadline_days["solicitud"],
                    emergency_numbers=inst.emergency_numbers,
                ),
            )
            self._show_menu(turn)
        elif is_substantive(turn.text) or turn.incoming.media or turn.incoming.location:
            turn.step, turn.data = "describing", self._new_draft()
            self._on_describing(turn)
        elif folded in GREETINGS:
            self._show_menu(turn)
        else:
            self._show_menu(turn, "dialogue.menu_hint")

    # -- description -----------------------------------------------------------------------

    @staticmethod
    def _new_draft() -> dict:
        return {"parts": [], "message_ids": [], "media": 0, "location": None}

    def _draft_piece(self, turn: Turn) -> dict:
        """What one message adds to a description, as plain data."""
        location = turn.incoming.location
        return {
            "text": turn.text if looks_like_words(turn.text) else "",
            "message_id": turn.message_id,
            "media": len(turn.incoming.media),
            "location": None
            if location is None
            else {
                "latitude": location.latitude,
                "longitude": location.longitude,
                "address": location.address or location.label,
            },
        }

    @staticmethod
    def _add_piece(turn: Turn, piece: dict) -> None:
        data = turn.data
        if piece["text"]:
            data["parts"] = [*data["parts"], piece["text"]]
        if piece["message_id"] not in data["message_ids"]:
            data["message_ids"] = [*data["message_ids"], piece["message_id"]]
        data["media"] += piece["media"]
        if piece["location"]:
            data["location"] = piece["location"]

    def _on_describing(self, turn: Turn) -> None:
        t = self.t
        if turn.folded in DONE:
            if turn.data["parts"] or turn.data["media"]:
                self._classify(turn)
            else:
                self._say(turn, t("dialogue.describe_empty"))
            return
        piece = self._draft_piece(turn)
        if not (piece["text"] or piece["media"] or piece["location"]):
            self._say(turn, t("dialogue.describe_unreadable"))
            return
        first = not (turn.data["parts"] or turn.data["media"])
        self._add_piece(turn, piece)
        if (
            piece["text"]
            and self.policy.classifier.classify("\n".join(turn.data["parts"])).urgency
            == "emergencia"
        ):
            self._classify(turn)
            return
        if first and piece["text"]:
            self._say(turn, t("dialogue.describe_first_ack"))
        elif piece["text"]:
            self._say(turn, t("dialogue.describe_ack"))
        elif piece["media"]:
            self._say(turn, t("dialogue.describe_media_ack"))
        else:
            self._say(turn, t("dialogue.describe_location_ack"))

    def _classify(self, turn: Turn) -> None:
        result = self.policy.classifier.classify("\n".join(turn.data["parts"]))
        turn.data.update(
            type=result.type,
            topic=result.topic,
            urgency=result.urgency,
            confidence=round(result.confidence, 3),
        )
        if result.urgency == "emergencia":
            self._open_emergency(turn)
        elif result.confidence < self.policy.confidence_threshold:
            turn.step = "choose_type"
            self._say(turn, self.t("dialogue.choose_type"), self._type_options())
        else:
            turn.step = "confirm_class"
            self._ask_confirmation(turn)

    def _ask_confirmation(self, turn: Turn) -> None:
        self._say(
            turn,
            self.t(
                "dialogue.classification",
                type=self.t(f"labels.type.{turn.data['type']}"),
                topic=self._topic_label(turn.data["topic"]),
            ),
            self._yes_no("classification_yes", "classification_no"),
        )

    def _on_confirm_class(self, turn: Turn) -> None:
        answer = self._answer(turn)
        if answer is True:
            self._ask_location(turn)
        elif answer is False:
            turn.step = "choose_type"
            self._say(turn, self.t("dialogue.choose_type"), self._type_options())
        else:
            self._say(
                turn,
                self.t("dialogue.classification_again"),
                self._yes_no("classification_yes", "classification_no"),
            )

    def _pick(self, turn: Turn, names: Sequence[str]) -> str | None:
        folded = turn.folded
        if folded.isdigit() and 1 <= int(folded) <= len(names):
            return names[int(folded) - 1]
        for name in names:
            if folded in (name, fold(name.replace("_", " ")), fold(self._topic_label(name))):
                return name
        return None

    def _on_choose_type(self, turn: Turn) -> None:
        picked = self._pick(turn, CASE_TYPES)
        if picked is None:
            self._say(
                turn,
                self.t("dialogue.choose_type_again", count=len(CASE_TYPES)),
                self._type_options(),
            )
            return
        turn.data.update(type=picked, confidence=1.0)
        turn.step = "choose_topic"
        self._say(turn, self.t("dialogue.choose_topic"), self._topic_options())

    def _on_choose_topic(self, turn: Turn) -> None:
        picked = self._pick(turn, self.policy.topics)
        if picked is None:
            self._say(
                turn,
                self.t("dialogue.choose_topic_again", count=len(self.policy.topics)),
                self._topic_options(),
            )
            return
        turn.data["topic"] = picked
        self._ask_location(turn)

    # -- location, anonymity, statistics ---------------------------------------------------

    def _ask_location(self, turn: Turn) -> None:
        turn.step = "location"
        self._say(turn, self.t("dialogue.location_prompt"))

    def _on_location(self, turn: Turn) -> None:
        location = turn.incoming.location
        if location is not None:
            self._add_piece(turn, {**self._draft_piece(turn), "text": ""})
        elif turn.folded in SKIP:
            pass
        elif looks_like_words(turn.text):
            turn.data["location_text"] = turn.text[:300]
            turn.data["municipality"] = municipality_of(turn.text)
        else:
            self._say(turn, self.t("dialogue.location_again"))
            return
        self._after_location(turn)

    def _after_location(self, turn: Turn) -> None:
        if turn.data["type"] == "denuncia":
            turn.step = "anonymity"
            self._say(
                turn,
                self.t("dialogue.anonymity_offer"),
                self._yes_no("anonymity_yes", "anonymity_no"),
            )
        else:
            self._ask_demographics_or_finish(turn)

    def _on_anonymity(self, turn: Turn) -> None:
        answer = self._answer(turn)
        if answer is None:
            self._say(
                turn,
                self.t("dialogue.anonymity_again"),
                self._yes_no("anonymity_yes", "anonymity_no"),
            )
            return
        turn.data["anonymous"] = answer
        if answer:
            self._finish(turn)
        else:
            self._ask_demographics_or_finish(turn)

    def _ask_demographics_or_finish(self, turn: Turn) -> None:
        if turn.contact.gender is not None:
            self._finish(turn)
            return
        turn.step = "demographics"
        options = [
            Option(str(i), self.t(f"dialogue.gender_{g}")) for i, g in enumerate(GENDER_OPTIONS, 1)
        ]
        self._say(turn, self.t("dialogue.demographics_prompt"), options)

    def _on_demographics(self, turn: Turn) -> None:
        parsed = parse_demographics(turn.folded)
        if parsed is None:
            self._say(turn, self.t("dialogue.demographics_again"))
            return
        gender, age = parsed
        turn.contact.gender = gender
        turn.contact.age = age
        self._finish(turn)

    # -- the case --------------------------------------------------------------------------

    def _finish(self, turn: Turn) -> None:
        opened = open_case(
            turn.uow, self.policy, contact=turn.contact, draft=turn.data, now=turn.now
        )
        self._receipt(turn, opened.case, opened.secret_code)
        turn.step, turn.data = "menu", {}

    def _receipt(self, turn: Turn, case: Any, secret_code: str | None) -> None:
        t = self.t
        values = dict(
            received=self.policy.local_time(case.created_at),
            channel=t(f"labels.channel.{case.channel}"),
            type=t(f"labels.type.{case.type}"),
            topic=self._topic_label(case.topic),
            due=self.policy.local_day(case.due_at),
            days=case.deadline_days,
        )
        if secret_code:
            self._say(
                turn, t("dialogue.receipt_anonymous", code=secret_code, **values), confidential=True
            )
        else:
            self._say(turn, t("dialogue.receipt", folio=case.folio, **values), case_id=case.id)

    def _open_emergency(self, turn: Turn) -> None:
        """Emergencies skip the remaining questions: case now, numbers now, staff alerted now."""
        opened = open_case(
            turn.uow, self.policy, contact=turn.contact, draft=turn.data, now=turn.now
        )
        case = opened.case
        self._say(
            turn,
            self.t(
                "dialogue.emergency", emergency_numbers=self.policy.institution.emergency_numbers
            ),
            case_id=case.id,
        )
        self._receipt(turn, case, None)
        self._alert_staff(turn, case)
        turn.step, turn.data = "followup", {"case_id": case.id, "folio": case.folio}

    def _alert_staff(self, turn: Turn, case: Any) -> None:
        t = self.t
        text = t(
            "staff.emergency_alert",
            folio=case.folio,
            topic=self._topic_label(case.topic),
            location=case.location_text or t("staff.emergency_no_location"),
            description=case.description[:500],
        )
        for member in turn.uow.staff.active():
            if member.telegram_id:
                turn.replies.append(Reply("telegram", str(member.telegram_id), text, (), case.id))
            if member.whatsapp:
                turn.replies.append(Reply("whatsapp", member.whatsapp, text, (), case.id))
        record_event(turn.uow, case, turn.now, actor="sistema", kind="emergency_alert", public=True)

    def _on_followup(self, turn: Turn) -> None:
        """After an emergency, what the person sends next is added to the same case."""
        piece = self._draft_piece(turn)
        if not (piece["text"] or piece["media"] or piece["location"]):
            self._say(turn, self.t("dialogue.help"))
            return
        case_id = turn.data["case_id"]
        turn.uow.messages.attach_to_case([turn.message_id], case_id, forget_sender=False)
        turn.uow.cases.append_details(case_id, piece["text"], piece["location"])
        self._say(
            turn, self.t("dialogue.emergency_followup", folio=turn.data["folio"]), case_id=case_id
        )

    def _on_await_folio(self, turn: Turn) -> None:
        if mentions_case(turn.text) or re.search(r"\d", turn.text):
            self._status(turn, turn.text)
        else:
            self._on_menu(turn)


def municipality_of(text: str) -> str | None:
    """The municipality in "San Miguel, colonia Las Brisas": the first part, unless it is a
    neighbourhood word. A best effort: staff can correct it."""
    first = re.split(r"[,;\n.]", text, maxsplit=1)[0].strip()
    first = re.sub(
        r"^(en\s+(el\s+)?)?(municipio|municipalidad|distrito)\s+(de\s+)?",
        "",
        first,
        flags=re.IGNORECASE,
    ).strip()
    if not first or fold(first).split()[0] in {
        "colonia",
        "col",
        "barrio",
        "caserio",
        "canton",
        "residencial",
        "urbanizacion",
        "calle",
        "av",
        "avenida",
        "km",
        "kilometro",
        "en",
        "por",
    }:
        return None
    return " ".join(w[:1].upper() + w[1:] for w in first.split())[:120]


def parse_demographics(folded: str) -> tuple[str, int | None] | None:
    """Gender and age from answers like "mujer 34", "2", "34", "omitir"; None if unreadable."""
    if folded in SKIP:
        return "sin_dato", None
    if folded in {"1", "2", "3"}:
        return GENDER_OPTIONS[int(folded) - 1], None
    gender = None
    for phrase, value in GENDER_WORDS.items():
        if re.search(rf"\b{phrase}\b", folded):
            gender = value
            break
    ages = [int(n) for n in re.findall(r"\b\d{1,3}\b", folded)]
    age = next((n for n in ages if 10 <= n <= 110), None)
    if gender is None and age is None:
        return None
    return gender or "sin_dato", age
