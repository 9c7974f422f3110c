"""Text normalisation for matching what people type: no accents, lower case, plain words."""

from __future__ import annotations

import re
import unicodedata

# C0 controls but tab, line feed and carriage return (PostgreSQL refuses NUL), DEL, C1 controls,
# and the bidirectional marks, embeddings, overrides and isolates that make a name or a text
# read differently on a staff screen from what it holds ("\u202e" turns "gpj.exe" around).
_CONTROLS = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_WORD = re.compile(r"[a-z0-9ñ]+")
_LETTERS = re.compile(r"[a-zñ]")
_VOWELS = set("aeiou")
# The accented letters Spanish writes, and what they fold to (as NFKD does, faster).
_ACCENTED = dict(zip("áéíóúüàèìòùâêîôûäëïöç", "aeiouuaeiouaeiouaeioc", strict=True))
_ACCENT = re.compile(f"[{''.join(_ACCENTED)}]")


def strip_controls(text: str) -> str:
    """The text without control and bidirectional formatting characters; newlines and tabs stay."""
    return _CONTROLS.sub("", text)


def fold(text: str) -> str:
    """Lower case without accents (but keeping ñ), with spaces collapsed."""
    text = text.lower()
    if "\0" not in text:  # (a NUL stands for ñ below; control characters are stripped before)
        if text.isascii():  # most messages: nothing to take off
            return " ".join(text.split())
        plain = _ACCENT.sub(lambda accented: _ACCENTED[accented.group()], text)
        if plain.replace("ñ", "").isascii():
            return " ".join(plain.split())
    text = text.replace("ñ", "\0")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("\0", "ñ")
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """The folded words and numbers of a text."""
    return _WORD.findall(fold(text))


def looks_like_words(text: str) -> bool:
    """Whether a text reads as language rather than a keyboard mash, emoji or punctuation."""
    letters = _LETTERS.findall(fold(text))
    if len(letters) < 3:
        return False
    vowel_ratio = sum(c in _VOWELS for c in letters) / len(letters)
    return 0.28 <= vowel_ratio <= 0.75


def is_substantive(text: str) -> bool:
    """Whether a free text says enough to be taken as the start of a report."""
    return looks_like_words(text) and len([w for w in words(text) if len(w) > 1]) >= 3
