"""The README stays short and every link in the documentation leads somewhere."""

import re
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# Guides written on other branches, linked before they arrive; remove a name once it exists.
ARRIVING: set[str] = set()

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    kept = "".join(c for c in text if c in " -" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}


def links(path: Path) -> list[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def broken(path: Path) -> list[str]:
    found = []
    for target in links(path):
        name, _, fragment = target.partition("#")
        destination = (path.parent / name).resolve() if name else path
        shown = destination.relative_to(ROOT).as_posix() if destination.is_relative_to(ROOT) else ""
        if shown.rstrip("/") in ARRIVING and not destination.exists():
            continue
        if not destination.exists():
            found.append(f"{path.name}: {target} (no such file)")
        elif fragment and destination.suffix == ".md" and fragment not in anchors(destination):
            found.append(f"{path.name}: {target} (no such heading)")
    return found


def test_the_readme_stays_under_three_hundred_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines < 300, f"README.md has {lines} lines; move the detail into a guide under docs/"


def test_every_relative_link_in_the_readme_and_the_guides_leads_to_a_file_and_heading():
    assert [p.name for p in DOCUMENTS][:1] == ["README.md"] and len(DOCUMENTS) > 5
    assert [problem for path in DOCUMENTS for problem in broken(path)] == []


def test_the_link_check_sees_a_missing_file_and_a_missing_heading(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[a](page.md#title) [b](gone.md) [c](#nowhere) [d](https://x.org)\n")
    assert broken(page) == [
        "page.md: gone.md (no such file)",
        "page.md: #nowhere (no such heading)",
    ]
