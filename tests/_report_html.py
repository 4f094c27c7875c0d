"""Read the tables of a ``report.html`` back (tests/test_output_folders.py, tests/test_cli.py).

Each table comes with the headings above it (``h2``, ``h3``, ``h4``), the "showing N of M rows" note before it
and that note's link to the full table, and its rows as lists of cell texts (the header row first).
"""

from __future__ import annotations

from html.parser import HTMLParser


class _Tables(HTMLParser):
    """The report's tables, each with the headings above it and the "showing N of M" note before it."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, str] = {}
        self.tables: list[dict] = []
        self.note = ""
        self._tag: str | None = None
        self._text = ""
        self._row: list[str] | None = None
        self._href: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("h2", "h3", "h4", "td", "th") or (tag == "p" and attrs.get("class") == "cut"):
            self._tag, self._text = tag if tag != "p" else "cut", ""
        if tag == "a" and self._tag == "cut":
            self._href = attrs.get("href")
        if tag == "table":
            self.tables.append({**self.headings, "note": self.note, "href": self._href, "rows": []})
            self.note, self._href = "", None
        if tag == "tr":
            self._row = []

    def handle_data(self, data):
        if self._tag:
            self._text += data

    def handle_endtag(self, tag):
        if tag in ("h2", "h3", "h4"):
            self.headings[tag] = self._text.strip()
            levels = ("h2", "h3", "h4")
            for lower in levels[levels.index(tag) + 1:]:  # a new section ends the sub-sections of the last one
                self.headings.pop(lower, None)
        elif tag in ("td", "th") and self._row is not None:
            self._row.append(self._text.strip())
        elif tag == "p" and self._tag == "cut":
            self.note = self._text.strip()
        elif tag == "tr" and self._row is not None and self.tables:
            self.tables[-1]["rows"].append(self._row)
            self._row = None
        if tag in ("h2", "h3", "h4", "td", "th", "p"):
            self._tag = None


def parse_tables(page: str) -> list[dict]:
    """Every table of ``page`` as ``{"h2", "h3", "h4", "note", "href", "rows"}`` (headings absent when none)."""
    parser = _Tables()
    parser.feed(page)
    return parser.tables
