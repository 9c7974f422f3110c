"""What a free sentence asks for, beyond the menu words: a person, to drop the report, or to
correct what was just said. Phrases come from the catalogue's [vocabulary] table."""

from __future__ import annotations

import re

from handlers.core.normalise import fold
from handlers.core.texts import Texts

# Longer than this, a sentence is telling something rather than asking the bot for something.
MAX_INTENT_WORDS = 8


def _phrases(texts: Texts, key: str) -> tuple[str, ...]:
    found = (fold(p).strip() for p in texts(f"vocabulary.{key}").split(","))
    return tuple(sorted((p for p in found if p), key=len, reverse=True))


def _has(folded: str, phrase: str) -> bool:
    return f" {phrase} " in f" {folded} "


class Intents:
    """Recognises hand-off requests, cancellations and corrections in what people write."""

    def __init__(self, texts: Texts) -> None:
        self.person = _phrases(texts, "person")
        self.cancel = _phrases(texts, "cancel_phrases")
        self.correction = _phrases(texts, "correction")
        self.greetings = frozenset(_phrases(texts, "greetings"))

    def wants_person(self, folded: str) -> bool:
        """ "quiero hablar con alguien de verdad", "necesito un humano"."""
        short = len(folded.split()) <= MAX_INTENT_WORDS + 2
        return short and any(_has(folded, phrase) for phrase in self.person)

    def cancels(self, folded: str) -> bool:
        """ "no mejor olvidelo", "ya no quiero reportar": dropping what is being written."""
        short = len(folded.split()) <= MAX_INTENT_WORDS
        return short and any(_has(folded, phrase) for phrase in self.cancel)

    def corrects(self, folded: str) -> bool:
        """ "ah no perdón, era la quebrada": what follows replaces something said before."""
        return any(folded == p or folded.startswith(p + " ") for p in self.correction)

    def correction_text(self, text: str) -> str:
        """The corrected fact without the words that announce it ("era la quebrada")."""
        words = text.split()
        for phrase in self.correction:
            size = len(phrase.split())
            if fold(" ".join(re.sub(r"[^\w]", "", w) for w in words[:size])) == phrase:
                rest = " ".join(words[size:]).lstrip(" ,.;:!-")
                return rest or text.strip()
        return text.strip()

    def only_greets(self, folded: str) -> bool:
        """ "hola", "buenas tardes": a greeting and nothing else."""
        rest = folded
        for phrase in sorted(self.greetings, key=len, reverse=True):
            rest = f" {rest} ".replace(f" {phrase} ", " ").strip()
        return bool(folded) and not rest
