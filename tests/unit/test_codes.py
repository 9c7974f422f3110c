"""Anonymous follow-up codes: recognised and hidden however they are typed, and nothing else."""

import pytest

from handlers.casework.cases import (
    CODE_MASK,
    mask_codes,
    mentions_case,
    names_code,
    new_secret_code,
    piece_groups,
)

CODE = "N9DX-8QAB-T84T"


@pytest.mark.parametrize(
    "typed",
    [
        "N9DX-8QAB-T84T",
        "N9DX.8QAB.T84T",
        "N9DX–8QAB–T84T",  # en dash
        "N9DX—8QAB—T84T",  # em dash
        "N9DX_8QAB_T84T",
        "N9DX 8QAB T84T",
        "N9DX - 8QAB - T84T",
        "N9DX8QABT84T",
        "n9dx_8qab_t84t",
        "n9dx8qabt84t",
        # Any other separator, and look-alike characters: each once left the code in clear.
        "N9DX/8QAB/T84T",
        "N9DX, 8QAB, T84T",
        "N9DX|8QAB|T84T",
        "N9DX·8QAB·T84T",
        "N9DX\u200b8QAB\u200bT84T",  # zero-width spaces
        "Ｎ９ＤＸ-８ＱＡＢ-Ｔ８４Ｔ",  # full-width
        # One character at a time, as dictated or spelled out: each once left the code in clear.
        "N 9 D X 8 Q A B T 8 4 T",
        "N-9-D-X-8-Q-A-B-T-8-4-T",
        "n. 9. d. x. 8. q. a. b. t. 8. 4. t",
        "N 9 D X-8QAB-T84T",
        "N9DX 8 Q A B T84T",
    ],
)
def test_a_code_is_recognised_and_masked_with_any_separator_or_none_in_any_case(typed):
    text = f"estado {typed}, gracias"
    assert mentions_case(text)
    assert mask_codes(text) == f"estado {CODE_MASK}, gracias"


@pytest.mark.parametrize(
    ("piece", "masked"), [("N9DX-8QAB", "XXXX-XXXX"), ("t84t", "XXXX"), ("8QAB T84T.", "XXXX-XXXX")]
)
def test_a_code_sent_in_pieces_is_recognised_and_masked_piece_by_piece(piece, masked):
    assert mentions_case(piece)
    assert mask_codes(piece) == masked


@pytest.mark.parametrize(
    ("typed", "masked"),
    [
        ("codigoN9DX8QABT84T", "codigoXXXX-XXXX-XXXX"),
        ("códigoN9DX-8QAB-T84T", "códigoXXXX-XXXX-XXXX"),
        ("estadoN9DX8QABT84T", "estadoXXXX-XXXX-XXXX"),
        ("N9DX8QABT84Tgracias", "XXXX-XXXX-XXXXgracias"),
        ("micodigo:N9DX-8QAB-T84Tgracias", "micodigo:XXXX-XXXX-XXXXgracias"),
        ("N9DX-8QAB-T84Tporfavor", "XXXX-XXXX-XXXXporfavor"),
    ],
)
def test_a_code_glued_to_a_word_that_asks_about_it_is_recognised_and_masked(typed, masked):
    assert mentions_case(typed)
    assert mask_codes(typed) == masked
    assert mask_codes(f"hola, {typed}") == f"hola, {masked}"


@pytest.mark.parametrize(
    "text",
    [
        "la responsabilidad es de la alcaldía",
        "la irresponsabilidad del contratista",
        "en la Calle Circunvalación Panamericana Sur pasaje 23",
        "frente al Centrocomercialmetrosur 3 y 4",
        "hay 2 o 3 baches grandes en la calle 5 de noviembre",
        "a b c d e f g h j k m n",  # letters spelled, no digits
        "1 2 3 4 5 6 7 8 9 2 3 4",  # digits spelled, no letters
        "ABCDN9DX8QABT84TXYZ",  # glued to letters that are no word of a question
        "casaN9DX8QABT84T",
        "N9DX8QABT84Tcasa",
        "calle 23 casa 45 pasaje 7 b",
        # A house number between two words in a sentence: three groups none of which mixes
        # digits and letters are a code only when they are the whole message (2026-12-06).
        "la casa 2345 esta inundada",
        "casa 2345 mesa 12 se cayo el techo",
        "casa 2345 mesa 3 hay un hoyo en la calle",
        "quiero saber de mi denuncia, el codigo es ABCD 2345 EFGH",
    ],
)
def test_ordinary_words_streets_and_spelled_letters_are_not_taken_for_codes(text):
    assert not mentions_case(text)
    assert mask_codes(text) == text


@pytest.mark.parametrize(
    "text", ["ABCD-2345-EFGH", "estado abcd 2345 efgh", "mi codigo es ABCD2345EFGH"]
)
def test_a_code_with_no_group_of_digits_and_letters_is_a_code_when_it_is_all_the_message_says(
    text,
):
    assert mentions_case(text)
    assert mask_codes(text).count("XXXX") == 3 and "2345" not in mask_codes(text)


@pytest.mark.parametrize("text", ["casa", "2345", "casa 2345", "A2B3 queda lejos", "7P"])
def test_a_word_a_number_or_a_sentence_is_not_a_piece_of_a_code(text):
    assert mask_codes(text) == text


def test_a_code_in_brackets_is_masked_inside_them():
    assert mask_codes("mi código es (N9DX)(8QAB)(T84T)") == f"mi código es ({CODE_MASK})"


def test_the_code_after_a_four_letter_word_is_masked_whole():
    masked = mask_codes("para N9DX 8QAB T84T")
    assert "N9DX" not in masked and "T84T" not in masked


@pytest.mark.parametrize(
    "text",
    [
        "para esta casa nadie vino",
        "estado TA-2026-000123",
        "mi número es 7234 5678 9234",
        "llamen al +503 7234-5678",
        "573234567892",
        "ABCDN9DX8QABT84T",  # part of a longer run of letters and digits
        "calle 23 avenida 45, casa 12",
    ],
)
def test_words_folios_and_phone_numbers_are_not_taken_for_codes(text):
    assert mask_codes(text) == text


def test_every_new_code_is_recognised_and_masked_in_any_form():
    for _ in range(200):
        code = new_secret_code()
        for typed in (code, code.replace("-", ""), code.replace("-", "_").lower()):
            assert mask_codes(typed) == CODE_MASK


@pytest.mark.parametrize(
    ("before", "text", "masked", "groups"),
    [
        (2, "TTTT", "XXXX", 1),
        (2, "8 8 8 8", "XXXX", 1),
        (1, "MMMM-2222", "XXXX-XXXX", 2),
        (2, "MMMM-2222", "MMMM-2222", 0),  # a code has three groups
        (0, "TTTT", "TTTT", 0),  # with no piece just before, a word
        (0, "8888", "8888", 0),  # or a number
        (2, "la casa 8888", "la casa 8888", 0),  # a sentence is never a piece
    ],
)
def test_the_groups_that_complete_a_code_sent_in_pieces_are_a_piece_whatever_they_hold(
    before, text, masked, groups
):
    assert mask_codes(text, before) == masked
    assert piece_groups(text, before) == groups
    assert names_code(text, before) == bool(groups)
