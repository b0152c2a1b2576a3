"""Hiding cadres' names in the free text of the analysts' snapshot, at a cost that does not
grow with the number of names times the number of cells.

What it must do (the privacy rule, docs/access.md): every name the rosters and facts use, of
two characters or more, is replaced by ``NAME_MARK`` wherever it occurs in a free-text cell,
longest first: 欧阳明 is hidden whole, never as 欧阳 + 明, and at one position the longest
name that starts there wins; matches do not overlap and the text after a match is searched
on. That is exactly what one regular expression ``name1|name2|...`` (sorted longest first)
did with DuckDB's ``regexp_replace``, and what this module still does.

Why not that regular expression any more: with 100,000 cadres the alternation has 100,000+
branches, run against every free-text cell of every copied table; publish at 100k cadres went
from ~6 s before the scrubbing existed to 450-560 s with it.

How instead: an Aho-Corasick automaton (``ahocorasick_rs``, the Rust ``aho-corasick`` crate)
built once per publish, with *leftmost-longest* match semantics, which gives the same
matches as the longest-first alternation: it finds the leftmost position where any name
starts, takes the longest name there, and resumes after it. The search costs time in the
length of the text, whatever the number of names. It runs as a vectorised (Arrow) DuckDB
function on each chunk of a column, and only on the chunk's distinct non-null values
(dictionary-encoded first), so a column repeating a few texts costs a few searches.

Why not restrict each cell to the names of the cadre(s) its row concerns: free text names
other people (an inspection finding reads "与甲01共同决定"), and tables without a cadre
column (rules, decision reasons, remarks) can name anyone; only the full list is safe.
"""

from __future__ import annotations

from collections.abc import Iterable

import ahocorasick_rs
import pyarrow as pa
import pyarrow.compute as pc

NAME_MARK = "[姓名已隐去]"
MIN_NAME_LENGTH = 2  # a one-character "name" would blank ordinary words


class NameScrubber:
    """Replaces every occurrence of the given names by ``NAME_MARK``, longest first."""

    def __init__(self, names: Iterable[str]) -> None:
        patterns = sorted({n for n in names if n and len(n) >= MIN_NAME_LENGTH})
        self.names = patterns
        self._automaton = (ahocorasick_rs.AhoCorasick(
            patterns, matchkind=ahocorasick_rs.MatchKind.LeftmostLongest)
            if patterns else None)

    def scrub(self, text: str | None) -> str | None:
        """``text`` with every name hidden; None stays None."""
        if text is None or self._automaton is None:
            return text
        hits = self._automaton.find_matches_as_indexes(text)
        if not hits:
            return text
        parts, pos = [], 0
        for _, start, end in hits:  # in order, not overlapping
            parts += [text[pos:start], NAME_MARK]
            pos = end
        parts.append(text[pos:])
        return "".join(parts)

    def scrub_arrow(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """The vectorised form DuckDB calls with a chunk of a VARCHAR column: each distinct
        value is searched once, nulls stay null, order and length are kept."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if self._automaton is None or len(values) == 0:
            return values.cast(pa.string())
        encoded = pc.dictionary_encode(values)
        cleaned = pa.array([self.scrub(v) for v in encoded.dictionary.to_pylist()],
                           type=pa.string())
        return pc.take(cleaned, encoded.indices)
