"""The catalogue holds every sentence the code asks for, and every label has a Spanish name."""

import re
from pathlib import Path

import pytest

from handlers.core.labels import CASE_TYPES, CHANNELS, DEFAULT_TOPICS, STATUSES
from handlers.core.texts import load_texts

ROOT = Path(__file__).resolve().parents[2]
KEY_IN_CODE = re.compile(
    r"""\b(?:t|_t|self\.t|policy\.texts|texts)\(\s*f?["']([a-z_]+\.[a-z_.{}]+)["']\s*[,)]"""
)
PLURAL_IN_CODE = re.compile(
    r"""\b(?:t|_t|self\.t|policy\.texts|texts)\.plural\(\s*["']([a-z_]+\.[a-z_.]+)["']\s*,"""
)


FORMS = ("one", "many")


def test_every_literal_key_used_in_the_code_is_in_the_catalogue():
    from bot.desk.web import desk_texts

    texts, desk = load_texts("es"), desk_texts()
    used, used_by_desk = set(), set()
    for path in [*ROOT.glob("bot/**/*.py"), *ROOT.glob("handlers/**/*.py")]:
        code = path.read_text()
        keys = {key for key in KEY_IN_CODE.findall(code) if "{" not in key}
        # A count's sentence is two entries: one for 1, one for any other number.
        keys |= {f"{key}_{form}" for key in PLURAL_IN_CODE.findall(code) for form in FORMS}
        # The web desk's modules read their own catalogue (bot/desk/texts.toml).
        (used_by_desk if path.parent.name == "desk" else used).update(keys)
    assert len(used) > 40 and len(used_by_desk) > 10
    missing = sorted(key for key in used if not texts.has(key))
    missing += sorted(key for key in used_by_desk if not (desk.has(key) or texts.has(key)))
    assert missing == []


@pytest.mark.parametrize(
    ("group", "labels"),
    [
        ("labels.type", CASE_TYPES),
        ("labels.type_article", CASE_TYPES),
        ("labels.topic", DEFAULT_TOPICS),
        ("labels.status", STATUSES),
        ("labels.channel", CHANNELS),
    ],
)
def test_every_label_has_a_spanish_name(group, labels):
    texts = load_texts("es")
    assert [label for label in labels if not texts.has(f"{group}.{label}")] == []


def test_exported_text_that_a_spreadsheet_would_run_is_neutralised():
    from bot.case_views import spreadsheet_safe_row

    row = {
        "description": '=HYPERLINK("http://x","clic")',
        "municipality": "+50",
        "location": "  @SUM(1)",
        "lat": -89.2,
    }
    assert spreadsheet_safe_row(row) == {
        "description": '\'=HYPERLINK("http://x","clic")',
        "municipality": "'+50",
        "location": "'  @SUM(1)",
        "lat": -89.2,
    }


def test_a_count_of_one_takes_the_singular_and_any_other_the_plural():
    t = load_texts("es")
    assert t.plural("amounts.cases", 1) == "1 caso"
    assert t.plural("amounts.cases", 0) == "0 casos"
    assert t.plural("amounts.business_days", 1) == "1 día hábil"
    assert t.plural("amounts.cases", 1200, count="1,200") == "1,200 casos"
