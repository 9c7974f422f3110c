"""The catalogue: every sentence a citizen or staff member reads, one TOML file per language."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUES = Path(__file__).with_name("texts")
# The country the catalogue's default sentences are written for (its places, its examples).
WRITTEN_FOR = "SV"
# The section read by the other countries where they have no sentence of their own.
OTHER = "other"


class Texts:
    """Look up a sentence by its dotted key and fill in its {placeholders}."""

    def __init__(self, entries: dict[str, str], language: str) -> None:
        self.entries = entries
        self.language = language

    def __call__(self, key: str, /, **values: Any) -> str:
        template = self.entries[key]
        return template.format(**values) if values else template

    def plural(self, key: str, count: int, /, **values: Any) -> str:
        """The sentence agreeing with a count: `{key}_one` for 1, `{key}_many` for any other
        number; {count} is the number itself unless the caller gives it written another way."""
        form = "one" if count == 1 else "many"
        values.setdefault("count", count)
        return self(f"{key}_{form}", **values)

    def has(self, key: str) -> bool:
        """Whether the catalogue holds this key."""
        return key in self.entries

    def for_country(self, country: str) -> Texts:
        """The catalogue as read in one country. The default sentences are written for El
        Salvador (WRITTEN_FOR); another country reads its own under `country.<CODE>.` (e.g.
        `country.CO.dialogue.location_prompt`, with Bogotá's localidad and barrio) and, where it
        has none, the ones under `country.other.`, which name no country's places."""
        code = country.upper()
        if code == WRITTEN_FOR:
            return self
        overrides: dict[str, str] = {}
        for prefix in (f"country.{OTHER}.", f"country.{code}."):
            overrides |= {
                k[len(prefix) :]: v for k, v in self.entries.items() if k.startswith(prefix)
            }
        return Texts({**self.entries, **overrides}, self.language) if overrides else self


@cache
def load_texts(language: str = "es") -> Texts:
    """The catalogue for one language, read once."""
    path = CATALOGUES / f"{language}.toml"
    with path.open("rb") as handle:
        return Texts(_flatten(tomllib.load(handle)), language)


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{dotted}."))
        else:
            flat[dotted] = str(value)
    return flat
