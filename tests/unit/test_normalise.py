"""What people type is read the same with or without accents, capitals and extra spaces."""

import unicodedata

import pytest

from handlers.core.normalise import fold, words


def decomposed(text: str) -> str:
    """Folding by the letter, as Unicode defines it: lower case, each letter decomposed and its
    accents dropped, ñ kept, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text.lower().replace("ñ", "\0"))
    text = "".join(c for c in text if not unicodedata.combining(c)).replace("\0", "ñ")
    return " ".join(text.split())


@pytest.mark.parametrize(
    "typed",
    [
        "Hay un HOYO enorme   en la calle",
        "Árbol caído en la vía, ¿quién lo quita? Está así desde el miércoles",
        "ÁÉÍÓÚÜÑ áéíóúüñ àèìòù âêîôû äëïö Çç",
        "Señora Peña, pingüino, cigüeña",
        "ﬁn de semana",  # a ligature
        "İstanbul",  # a capital whose lower case carries a dot above
        "Bogotá\u00a0D.C.\u2003Kennedy",  # spaces that are not ASCII
        "cafe\u0301 con acento suelto",  # an accent typed as its own character
        "alerta 🚨 ya",
        "a\0b á\0",  # a NUL (stripped before any text is stored)
        "",
    ],
)
def test_folding_takes_off_accents_and_capitals_but_keeps_the_enie(typed):
    assert fold(typed) == decomposed(typed)


def test_accented_and_plain_writing_give_the_same_words():
    assert words("CAÍDA del Árbol en Ñuñoa") == words("caida del arbol en ñuñoa")
    assert words("caida del arbol en ñuñoa") == ["caida", "del", "arbol", "en", "ñuñoa"]
