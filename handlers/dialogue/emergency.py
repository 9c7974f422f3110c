"""The dialogue's steps around danger: the danger question, asking where after an emergency,
what follows an emergency joining its case, and texts that are not reports at all.

A mixin of handlers.dialogue.conversation.Dialogue: the steps share its helpers (`_say`,
`_ask`, the draft) and its state (the conversation row), and live here to keep that module's
flow readable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from handlers.casework.notifications import Event
from handlers.classification.assessment import Assessment, assess
from handlers.classification.danger import needs_danger_check
from handlers.classification.scope import Kind, out_of_scope_kind
from handlers.core.messages import Option
from handlers.core.normalise import fold, looks_like_words
from handlers.core.places import NOT_KNOWING, without_not_knowing
from handlers.core.policy import CasePolicy
from handlers.core.ports import Classification
from handlers.core.texts import Texts
from handlers.dialogue.intents import Intents

# The turn of handlers.dialogue.conversation (not imported: that module imports this one).
Turn = Any


class Vocabulary(Protocol):
    """What these steps use of the dialogue's vocabulary."""

    done: frozenset[str]

    def answer(
        self, folded: str, *, yes: frozenset[str] = ..., no: frozenset[str] = ...
    ) -> bool | None: ...

    def without_courtesy(self, folded: str) -> str: ...

    def is_control(self, folded: str) -> bool: ...

    def finishes(self, folded: str) -> bool: ...


# Said at the danger question besides the yes and no words: not knowing is taken as yes.
DANGER_YES = frozenset({"no se", "no sabemos", "creo que si", "tal vez", "puede ser", "hay gente"})
# And nobody in danger is a no.
DANGER_NO = frozenset({"nadie", "ninguno", "ninguna"})
MAX_PLACE = 300
_REPEATS = re.compile(r"(\w)\1{2,}")
_NOT_DANGER = Classification("solicitud", "otro", "normal", 0.0)


class EmergencySteps:
    """Danger question, emergency location and follow-up, out-of-scope answers."""

    policy: CasePolicy
    t: Texts
    vocab: Vocabulary
    intents: Intents

    if TYPE_CHECKING:

        def _say(
            self,
            turn: Turn,
            text: str,
            options: Sequence[Option] = (),
            case_id: int | None = None,
            confidential: bool = False,
        ) -> None: ...
        def _ask(self, turn: Turn, text: str, options: Sequence[Option] = ()) -> None: ...
        def _yes_no(self, yes_key: str, no_key: str) -> list[Option]: ...
        def _show_menu(self, turn: Turn, intro_key: str = ...) -> None: ...
        def _alert_staff(
            self, turn: Turn, event: Event, text: str, case_id: int | None
        ) -> bool: ...
        def _draft_piece(self, turn: Turn) -> dict: ...
        def _add_piece(self, turn: Turn, piece: dict) -> None: ...
        def _new_draft(self, opened_by: int | None = None) -> dict: ...
        def _take_piece(self, turn: Turn, piece: dict, *, first: bool) -> None: ...
        def _classify(self, turn: Turn) -> None: ...
        def _on_menu(self, turn: Turn) -> None: ...
        def _menu_choice(self, folded: str) -> str | None: ...

    # -- the danger question ---------------------------------------------------------------

    def _assess(self, turn: Turn, text: str) -> Assessment:
        """The draft's classification with the rules on top; "yes" to the danger question
        makes it an emergency."""
        assessed = assess(text, self.policy.classifier.classify(text))
        if turn.data.get("danger") is True:
            result = assessed.classification
            emergency = Classification(result.type, result.topic, "emergencia", result.confidence)
            return Assessment(emergency, False, assessed.in_scope, assessed.service)
        return assessed

    def _asks_danger(self, turn: Turn, text: str, *, done: bool = False) -> bool:
        """Ask "¿Hay personas en peligro en este momento?" when the text shows signs of danger
        the classifier did not mark as an emergency; once per report. `done`: the description
        is complete (asked at LISTO), else it is still being written."""
        if "danger" in turn.data or not self._assess(turn, text).danger_check:
            return False
        turn.data.update(danger="asked", danger_done=done)
        turn.step = "danger_check"
        self._ask_danger(turn, "dialogue.danger_question")
        return True

    def _ask_danger(self, turn: Turn, key: str) -> None:
        self._ask(turn, self.t(key), self._yes_no("dialogue.danger_yes", "dialogue.danger_no"))

    def _on_danger_check(self, turn: Turn) -> None:
        """Yes: the emergency path. No: the report goes on as it was, nothing lost."""
        said = self.vocab.without_courtesy(turn.folded)  # "no, gracias"
        answer = self.vocab.answer(said, yes=frozenset(map(fold, DANGER_YES)), no=DANGER_NO)
        if answer is None:
            # Whatever they send instead is part of the report, and may settle the question;
            # but LISTO, OMITIR or a greeting is no part of it (LISTO: the report is complete).
            piece = self._draft_piece(turn)
            if self.vocab.finishes(turn.folded):
                turn.data["danger_done"] = True
            if not said or self.vocab.is_control(turn.folded):
                piece["text"] = ""
            if piece["text"] or piece["media"] or piece["location"]:
                self._add_piece(turn, piece)
                text = "\n".join(turn.data["parts"])
                if self.policy.classifier.classify(text).urgency == "emergencia":
                    answer = True
            if answer is None:
                self._ask_danger(turn, "dialogue.danger_again")
                return
        turn.data["danger"] = answer
        done = turn.data.pop("danger_done", False)
        turn.step = "describing"
        if answer or done:
            self._classify(turn)
        else:
            self._say(turn, self.t("dialogue.describe_first_ack"))

    # -- what is not a report --------------------------------------------------------------

    def _answers_out_of_scope(self, turn: Turn) -> bool:
        """At the menu: thanks, praise and greetings answered as what they are; a short text
        with signs of danger starts a report and gets the danger question. False for noise
        (the menu's hint answers it) and for anything that may be a report."""
        if turn.incoming.media or turn.incoming.location:
            return False
        kind = out_of_scope_kind(turn.text)
        if kind is None:
            return False
        said = _REPEATS.sub(r"\1", turn.text)  # "AUXILIOOO"
        if looks_like_words(said) and needs_danger_check(said, _NOT_DANGER):
            turn.step, turn.data = "describing", self._new_draft(turn.message_id)
            self._take_piece(turn, {**self._draft_piece(turn), "text": said}, first=True)
            return True
        if kind is Kind.THANKS:
            self._say(turn, self.t("dialogue.thanks"))
        elif kind is Kind.PRAISE:
            self._say(turn, self.t("dialogue.praise"))
        elif kind is Kind.GREETING:
            self._show_menu(turn)
        else:
            return False
        return True

    def _says_nothing(self, turn: Turn, assessed: Assessment) -> bool:
        """A draft of only thanks, greetings or noise is not a report: they are asked for one."""
        if assessed.in_scope or turn.data.get("media") or turn.data.get("location"):
            return False
        turn.data["parts"] = []
        self._say(turn, self.t("dialogue.describe_empty"))
        return True

    def _refer(self, turn: Turn, assessed: Assessment) -> None:
        """Tell who handles another service's matter, where the institution configured it."""
        topic = turn.data.get("topic")
        office = self.policy.referral(assessed.service, topic if topic != "otro" else None)
        if office and (assessed.service or topic in self.policy.referrals):
            self._say(turn, self.t("dialogue.referral", office=office))

    # -- after an emergency ----------------------------------------------------------------

    def _ask_where(self, turn: Turn, case: object) -> None:
        """Right after the emergency's receipt: where is it? (unless a pin came with it)"""
        if getattr(case, "latitude", None) is None and not getattr(case, "location_text", None):
            turn.data["where"] = True
            self._ask(turn, self.t("dialogue.emergency_where"))

    def _on_followup(self, turn: Turn) -> None:
        """After an emergency, what the person sends (a place, a pin, a photo, a voice note,
        more words) joins the same case and reaches the staff who were alerted."""
        if turn.now >= datetime.fromisoformat(turn.data["until"]):
            turn.step, turn.data = "menu", {}
            self._on_menu(turn)
            return
        piece = self._draft_piece(turn)
        sent = bool(piece["media"] or piece["location"])
        courtesy = self.vocab.without_courtesy(turn.folded) == ""
        # LISTO, OMITIR, a yes or a no answers no question here: no detail of the case.
        control = self.vocab.is_control(turn.folded)
        if control:
            piece["text"] = ""
        if not sent and self.intents.only_greets(turn.folded):
            self._say(turn, self.t("dialogue.followup_greeting", folio=turn.data["folio"]))
            return
        if not sent and self._menu_choice(turn.folded):
            turn.step, turn.data = "menu", {}
            self._on_menu(turn)
            return
        if (
            turn.data.get("where") is True
            and not sent
            and self._no_place(turn, courtesy or control)
        ):
            return
        if not sent and (control or courtesy):
            self._say(turn, self.t("dialogue.thanks"))
            return
        if not (piece["text"] or sent):
            self._say(turn, self.t("dialogue.help"))
            return
        case_id, folio = turn.data["case_id"], turn.data["folio"]
        if piece["text"] and self.intents.corrects(turn.folded):
            fixed = self.intents.correction_text(piece["text"])
            piece["text"] = self.t("dialogue.correction_part", text=fixed)
        uow = turn.uow
        uow.messages.attach_to_case([turn.message_id], case_id)
        uow.cases.append_details(case_id, "", piece["location"])  # a pin first: it may place it
        where = turn.data.get("where")
        said = without_not_knowing(turn.text)  # "no sé, cerca del río"
        typed = said[:MAX_PLACE] if where and said and not piece["location"] else None
        placed = where and (typed or piece["location"]) and self._locate(turn, case_id, typed)
        # The first answer is taken as the place whatever it says; after one the gazetteer did
        # not know, only a place it knows or a pin is (other words are more details).
        place = typed if where is True or placed else None
        # An answer to where is the case's place (and its message stays with the case), not
        # more of its description, unless it tells of danger besides ("..., y hay otra persona
        # atrapada"): then the description keeps it too.
        if not place or needs_danger_check(piece["text"], _NOT_DANGER):
            uow.cases.append_details(case_id, piece["text"], None)
        alerted = self._alert_staff(
            turn, Event.EMERGENCY_ADDITION, self._addition(turn, piece, place), case_id
        )
        # A pin the gazetteer cannot place (at sea, abroad) still answers where: staff see it.
        answered = placed or bool(where and piece["location"])
        if place or answered:
            if answered:
                del turn.data["where"]
            key = "emergency_where_thanks" if alerted else "emergency_where_saved"
            text = self.t(f"dialogue.{key}", folio=folio)
        else:
            text = self.t("dialogue.emergency_followup", folio=folio)
        self._say(turn, text, case_id=case_id)

    def _no_place(self, turn: Turn, unanswered: bool) -> bool:
        """Asked where, an answer that gives no place: not knowing it (kept on the case) asks
        for a pin or a landmark; `unanswered` (thanks, LISTO, OMITIR, a yes or a no), a blank or
        a keyboard mash asks where again."""
        folio = turn.data["folio"]
        said = NOT_KNOWING.match(turn.text)
        if said is not None and not turn.text[said.end() :].strip():
            turn.uow.messages.attach_to_case([turn.message_id], turn.data["case_id"])
            self._say(turn, self.t("dialogue.emergency_where_unknown", folio=folio))
            return True
        if unanswered or not looks_like_words(turn.text):
            self._say(turn, self.t("dialogue.emergency_where_again", folio=folio))
            return True
        return False

    def _locate(self, turn: Turn, case_id: int, typed: str | None) -> bool:
        """The emergency's place from an answer to where: the place typed becomes the case's
        place, and its municipality the one the gazetteer finds for it, or for the case's pin;
        whether it found one. A place it does not know ("frente al kinder") is kept for the
        staff but names no municipality: a better answer (a known place, a pin) may still come,
        and a known place then keeps that landmark as its reference. A municipality staff set is
        kept."""
        uow = turn.uow
        case = uow.cases.get(case_id)
        if case is None:
            return False
        places = self.policy.places
        found = places.match(typed) if typed else None
        if (found is None or not found.matched) and case.latitude is not None:
            found = places.nearest(case.latitude, case.longitude)
        written = turn.data["where"] == "written"
        if found is not None and found.matched:
            if typed and written:
                # The landmark said first ("no sé, creo que por la escuela...") is what finds
                # the spot within the place named now: kept as its reference, not replaced.
                case.location_text = self._with_reference(typed, case.location_text)
            elif typed and not case.location_text:
                case.location_text = typed
            if not case.municipality:
                case.municipality, case.district = found.municipality, found.district
                case.department = found.department
            uow.cases.add(case)
            return True
        if typed and turn.data["where"] is True:
            if not case.location_text:
                case.location_text = typed
                uow.cases.add(case)
            turn.data["where"] = "written"
        return False

    def _with_reference(self, place: str, landmark: str | None) -> str:
        """A place with the landmark given before it as its reference, within the place's
        length: "Soyapango (referencia: por la escuela de la colonia El Carmen)"."""
        if not landmark or fold(landmark) in fold(place):
            return place
        text = self.t("dialogue.place_reference", place=place, reference=landmark)
        if len(text) <= MAX_PLACE:
            return text
        room = MAX_PLACE - len(self.t("dialogue.place_reference", place=place, reference="…"))
        if room < 1:
            return place[:MAX_PLACE]
        cut = landmark[:room].rstrip() + "…"
        return self.t("dialogue.place_reference", place=place, reference=cut)

    def _addition(self, turn: Turn, piece: dict, place: str | None) -> str:
        """The staff's notice of what the person added to an emergency."""
        t, folio = self.t, turn.data["folio"]
        what, details = [], []
        if piece["location"]:
            location = piece["location"]
            what.append(t("staff.emergency_addition_pin"))
            if location.get("address"):
                details.append(location["address"])
            details.append(
                t(
                    "staff.emergency_addition_map",
                    latitude=f"{location['latitude']:.5f}",
                    longitude=f"{location['longitude']:.5f}",
                )
            )
        if turn.incoming.media:
            kinds = ", ".join(sorted({m.kind for m in turn.incoming.media}))
            count = len(turn.incoming.media)
            what.append(t.plural("staff.emergency_addition_media", count, kinds=kinds))
            details.append(t("staff.emergency_addition_see", folio=folio))
        if piece["text"]:
            what.append(
                t("staff.emergency_addition_place" if place else "staff.emergency_addition_text")
            )
            details.insert(0, piece["text"][:500])
        return t(
            "staff.emergency_addition",
            folio=folio,
            what=", ".join(what),
            details="\n".join(details),
        )
