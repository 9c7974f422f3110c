"""Questions about earlier cases in the person's own words ("como va lo del puente?"), and
picking one of the listed cases by its position, its ordinal or its number."""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.casework.lifecycle import FINAL
from handlers.core.normalise import fold, words
from handlers.core.ports import UnitOfWork
from handlers.core.texts import Texts
from storage.models import Case, Contact

# Longer than this, a sentence is a new report that happens to say "ya arreglaron".
MAX_QUESTION_WORDS = 12
# Words too common to tell one case from another.
_MIN_STEM = 4


class Followups:
    """Reads status questions and picks from a listed set of cases."""

    def __init__(self, texts: Texts) -> None:
        def phrases(key: str) -> tuple[str, ...]:
            found = (fold(p).strip() for p in texts(f"vocabulary.{key}").split(","))
            return tuple(p for p in found if p)

        self.questions = phrases("status_question")
        self.fillers = frozenset(phrases("pick_fillers"))
        self.stopwords = frozenset(phrases("stopwords"))
        self.ordinals = [frozenset(group.split()) for group in phrases("ordinals")]

    def asks_about_a_case(self, folded: str) -> bool:
        """ "como va lo del puente?", "qué pasó con mi reporte", "ya arreglaron lo del bache?"."""
        if not folded or len(folded.split()) > MAX_QUESTION_WORDS:
            return False
        padded = f" {folded} "
        return any(f" {phrase} " in padded for phrase in self.questions)

    def cases_meant(self, folded: str, cases: Sequence[Case], topic_label) -> list[Case]:
        """The person's cases a question may be about: those whose description or topic shares
        a word with it, else the open ones, else all (latest last)."""
        question = set()
        for word in folded.split():
            if len(word) >= _MIN_STEM and word not in self.stopwords:
                question.add(word[:5])
        phrase_words = {w for p in self.questions for w in p.split()}
        question -= {w[:5] for w in phrase_words}
        matching = []
        for case in cases:
            told = fold(f"{case.description} {topic_label(case.topic)}")
            stems = {w[:5] for w in words(told) if len(w) >= _MIN_STEM}
            if question & stems:
                matching.append(case)
        if matching:
            open_matching = [c for c in matching if c.status not in FINAL]
            return open_matching or matching
        open_cases = [c for c in cases if c.status not in FINAL]
        return open_cases or list(cases)

    def pick(self, folded: str, listed: Sequence[str]) -> str | None:
        """The folio meant among `listed`: "2", "el 2", "el segundo", "caso 2"; None when the
        answer names no position of the list."""
        rest = [w for w in folded.split() if w not in self.fillers]
        if len(rest) != 1:
            return None
        word = rest[0]
        position = None
        if word.isdigit():
            position = int(word)
        else:
            position = next((i for i, g in enumerate(self.ordinals, 1) if word in g), None)
        if position is not None and 1 <= position <= len(listed):
            return listed[position - 1]
        return None

    def by_number(self, folded: str, cases: Sequence[Case]) -> Case | None:
        """One of the person's cases by the number of its folio ("15", "el 000015")."""
        rest = [w for w in folded.split() if w not in self.fillers]
        if len(rest) != 1 or not re.fullmatch(r"\d{1,8}", rest[0]):
            return None
        own = [c for c in cases if int(c.folio.rsplit("-", 1)[1]) == int(rest[0])]
        return own[-1] if own else None


def latest_open_case(uow: UnitOfWork, contact: Contact) -> Case | None:
    """The person's most recent case that is still open (not anonymous), if any."""
    cases = [c for c in uow.cases.for_contact(contact.id) if c.status not in FINAL]
    return next((c for c in reversed(cases) if not c.anonymous), None)
