"""Cells written to files that people open in spreadsheets or read as Markdown tables.

Places, names and descriptions are typed by citizens; in a cell they must stay data.
"""

from __future__ import annotations

from typing import Any

# What makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula,
# also after leading spaces; tab and carriage return start one in some importers.
FORMULA_START = ("=", "+", "-", "@")
CONTROL_START = ("\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """A text that a spreadsheet would run gets a leading apostrophe; anything else, numbers
    included, is returned as it is."""
    if not isinstance(value, str):
        return value
    if value.startswith(CONTROL_START) or value.lstrip().startswith(FORMULA_START):
        return f"'{value}"
    return value


def markdown_cell(value: str) -> str:
    """A text for one cell of a Markdown table: no formula, no column break, no line break."""
    text = str(spreadsheet_safe(value)).replace("\\", "\\\\").replace("|", "\\|")
    return " ".join(text.splitlines())
