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

How instead: an Aho-Corasick automaton over every name (``pyahocorasick``), built once per
publish, finds every occurrence of every name in one pass over the text, in time linear in
the text whatever the number of names; then the same choice the regex made is made in
Python among those few occurrences: the leftmost one, the longest at that position, then on
after its end. The automaton only reports occurrences (its plain ``iter``); the choice is
ours, because ``iter_long`` has had releases that missed matches, and a missed match is a
name shown to analysts. (The Rust ``ahocorasick_rs`` has the choice built in, but its build
time grows quadratically with names nested in other names, as 干部1 in 干部12: 3 s for 100k
such names, 12 s for 200k; pyahocorasick builds 1M in 0.2 s.) It runs as a vectorised
(Arrow) DuckDB function on each chunk of a column, and only on the chunk's distinct non-null
values (dictionary-encoded first), so a column repeating a few texts costs a few searches.
The equivalence with the regex is tested against DuckDB's regexp_replace (tests/test_scrub.py).

Why not restrict each cell to the names of the cadre(s) its row concerns: free text names
other people (an inspection finding reads "与甲01共同决定"), and tables without a cadre
column (rules, decision reasons, remarks) can name anyone; only the full list is safe.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable

import ahocorasick
import pyarrow as pa
import pyarrow.compute as pc

NAME_MARK = "[姓名已隐去]"
MIN_NAME_LENGTH = 2  # a one-character "name" would blank ordinary words


class NameScrubber:
    """Replaces every occurrence of the given names by ``NAME_MARK``, longest first."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = sorted({n for n in names if n and len(n) >= MIN_NAME_LENGTH})
        self._automaton: ahocorasick.Automaton | None = None
        if self.names:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_LENGTH)  # value: the length
            for name in self.names:
                automaton.add_word(name)
            automaton.make_automaton()
            self._automaton = automaton

    def scrub(self, text: str | None) -> str | None:
        """``text`` with every name hidden; None stays None."""
        if text is None or self._automaton is None:
            return text
        # every occurrence as (start, -length): leftmost first, then longest first
        found = sorted((end - length + 1, -length)
                       for end, length in self._automaton.iter(text))
        if not found:
            return text
        parts, pos = [], 0
        for start, minus_length in found:
            if start < pos:  # overlaps the name just hidden
                continue
            parts += [text[pos:start], NAME_MARK]
            pos = start - minus_length
        parts.append(text[pos:])
        return "".join(parts)

    def scrub_arrow(self, values: pa.Array | pa.ChunkedArray) -> pa.Array:
        """The vectorised form DuckDB calls with a chunk of a VARCHAR column: each distinct
        value is searched once, nulls stay null, order and length are kept.

        Why one search over the chunk's values joined: most cells hold no name, and a Python
        call per value cost more than the search. The joined text holds every occurrence in
        every value (and perhaps some across a separator, which only costs a needless look);
        only values with an occurrence go through ``scrub``."""
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        if self._automaton is None or len(values) == 0:
            return values.cast(pa.string())
        encoded = pc.dictionary_encode(values)
        texts = encoded.dictionary.to_pylist()
        starts, pos = [], 0
        for text in texts:
            starts.append(pos)
            pos += len(text) + 1
        hits = {bisect_right(starts, end) - 1
                for end, _ in self._automaton.iter("\0".join(texts))}
        if not hits:
            return values.cast(pa.string())  # nothing to hide in this chunk
        for i in hits:
            texts[i] = self.scrub(texts[i])
        return pc.take(pa.array(texts, type=pa.string()), encoded.indices)
