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

Before the names, IDs and dates that may be birth dates are hidden with DuckDB regular
expressions (``ID_REPLACES``, ``date_replaces``, at the end of this module): a name is then
searched in text whose IDs are already hidden, and no name can split an ID or a date.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from datetime import date

import ahocorasick
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.idcard import EARLIEST_BIRTH, MIN_AGE_YEARS

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


# --- IDs and exact dates: DuckDB regular expressions (RE2), applied before the names ---------
#
# What must be hidden (docs/access.md): an ID in any form units write (18 characters, or 6-8-4
# with blanks or hyphens between the groups, or the old 15 digits) and an exact date that may
# be a birth date, in the forms the contracts accept. What must stay: amounts, 文号, 问题编号,
# phone numbers, recent dates, a year and month.
#
# Standing alone means no digit right before or after (an ID or a date hidden just before
# counts as none): the 15 digits of an old ID, not 15 of a longer number; 19810319, not the
# middle of an account number. RE2 has no lookaround, so this is spelled with capture
# groups: the character before and the character after (or the text's start or end) are
# matched, captured and put back by the replacement. A match so takes the character after
# it, and of two such numbers one character apart (19810319 19820401) the second is not
# found by the same pass (nor an ID right after one ending in X, which its match took too).
# Hence a second, narrow pass per kind: such a missed number always follows its kind's mark,
# directly or after the one character taken, so the second pattern starts with the mark (a
# literal RE2 skips to: nearly free on text without one). Two passes always suffice: a number
# the first pass misses is followed by none it misses (its own digits cannot start a match,
# so the character after it is free for the next one).
#
# One combined regular expression per kind and pass: each ``regexp_replace`` over a cell
# costs about the same whatever the pattern, so alternatives are cheap and passes are not.

ID_MARK = "[身份证号已隐去]"
DATE_MARK = "[日期已隐去]"
Replace = tuple[str, str]  # (RE2 pattern, replacement) for one regexp_replace over the text

_FULL_WIDTH = {str(d): chr(0xFF10 + d) for d in range(10)}  # ０-９, as units sometimes type


def _digits(low: str, high: str) -> str:
    """A class of the digits low..high, ASCII and full-width."""
    if low == high:
        return f"[{low}{_FULL_WIDTH[low]}]"
    return f"[{low}-{high}{_FULL_WIDTH[low]}-{_FULL_WIDTH[high]}]"


DIGIT = _digits("0", "9")
NOT_DIGIT = "[^0-9０-９]"
_START = f"(^|{NOT_DIGIT})"  # groups put back by the replacement
_END = f"($|{NOT_DIGIT})"


def _after(mark: str) -> str:
    """The mark as an RE2 literal, then the character its match took, if any (a group)."""
    return mark.replace("[", "\\[").replace("]", "\\]") + f"((?:{NOT_DIGIT})?)"


# Between the groups of an ID: blanks (incl. the ideographic space), hyphens and dashes, and
# their full-width forms, up to three (360281 - 19810319 - 4838).
_ID_GAP = "[-\u2010-\u2015\u2212\uff0d \t\u00a0\u2000-\u200a\u202f\u3000]{0,3}"
_CHECK = "[0-9０-９XxＸｘ]"
# 6-8-4 (or 6-8-3 + check character) with blanks or hyphens between the groups, or the 15
# digits of an old-style ID (area, YYMMDD, sequence): standing alone, so that three 8-digit
# dates in a row are no ID.
_ID_ALONE = (f"(?:{DIGIT}{{6}}{_ID_GAP}{DIGIT}{{8}}{_ID_GAP}{DIGIT}{{3}}{_CHECK}"
             f"|{DIGIT}{{15}})")
# 18 characters together, anywhere (as always: 18 digits inside a longer number are hidden
# too), or one of the forms standing alone.
ID_PATTERN = f"{DIGIT}{{17}}{_CHECK}|{_START}{_ID_ALONE}{_END}"
ID_REPLACES: list[Replace] = [
    (ID_PATTERN, f"\\1{ID_MARK}\\2"),
    (f"{_after(ID_MARK)}{_ID_ALONE}{_END}", f"{ID_MARK}\\1{ID_MARK}\\2"),
]

# The birth dates an ID may carry (sources.md, the ingest's ID check): not before 1900, at
# least 16 years before the data's date; declared once, in pipelines.ingest.idcard.
FIRST_BIRTH_YEAR = EARLIEST_BIRTH.year
YOUNGEST_CADRE_AGE = MIN_AGE_YEARS


def last_birth_year(as_of: date) -> int:
    """The latest year a serving cadre can have been born in, on the snapshot's latest as-of
    date: dates of this year or before, written in full, may be birth dates and are hidden;
    later ones (a finding's date, a deadline) are left for analysts."""
    return max(FIRST_BIRTH_YEAR, as_of.year - YOUNGEST_CADRE_AGE)


def _number_range(low: str, high: str) -> str:
    """A pattern for the numbers low..high written with as many digits as ``low``."""
    if len(low) == 1:
        return _digits(low, high)
    rest = len(low) - 1
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        return f"{_digits(low[0], high[0])}{DIGIT}{{{rest}}}"
    if low[0] == high[0]:
        return f"{_digits(low[0], low[0])}(?:{_number_range(low[1:], high[1:])})"
    parts = [f"{_digits(low[0], low[0])}(?:{_number_range(low[1:], '9' * rest)})"]
    if int(high[0]) - int(low[0]) > 1:
        middle = _digits(str(int(low[0]) + 1), str(int(high[0]) - 1))
        parts.append(f"{middle}{DIGIT}{{{rest}}}")
    parts.append(f"{_digits(high[0], high[0])}(?:{_number_range('0' * rest, high[1:])})")
    return "|".join(parts)


_ZERO = _digits("0", "0")
_MONTH = f"{_digits('1', '1')}{_digits('0', '2')}|{_ZERO}?{_digits('1', '9')}"  # 10-12, 1-9, 01-09
_DAY = (f"{_digits('3', '3')}{_digits('0', '1')}|{_digits('1', '2')}{DIGIT}"
        f"|{_ZERO}?{_digits('1', '9')}")  # 30-31, 10-29, 1-9, 01-09: the longest first
_MONTH2 = f"{_ZERO}{_digits('1', '9')}|{_digits('1', '1')}{_digits('0', '2')}"  # 01-12
_DAY2 = f"{_ZERO}{_digits('1', '9')}|{_digits('1', '2')}{DIGIT}|{_digits('3', '3')}{_digits('0', '1')}"
_BLANKS = "[ \u3000]*"
# The separators the contracts accept (pipelines.ingest.values), ASCII and full-width.
_AFTER_YEAR = f"{_BLANKS}[-/.年－／．]{_BLANKS}"
_AFTER_MONTH = f"{_BLANKS}[-/.月－／．]{_BLANKS}"


def date_replaces(last_year: int) -> list[Replace]:
    """Exact dates of the years FIRST_BIRTH_YEAR..``last_year`` in the forms the contracts
    accept: 1981-03-19, 1981/3/19, 1981.03.19, 1981年3月19日 (or 号), with mixed separators
    and blanks as the parser allows them, and 19810319 as 8 digits; ASCII or full-width
    digits; standing alone, as IDs do. Year and month alone (1981年3月, 2005.01-2008.12) are
    no exact date: the day must not run on into more digits."""
    year = f"(?:{_number_range(str(FIRST_BIRTH_YEAR), str(last_year))})"
    exact = (f"(?:{year}(?:{_MONTH2})(?:{_DAY2})"
             f"|{year}{_AFTER_YEAR}(?:{_MONTH}){_AFTER_MONTH}(?:{_DAY})(?:{_BLANKS}[日号])?)")
    return [(f"{_START}{exact}{_END}", f"\\1{DATE_MARK}\\2"),
            (f"{_after(DATE_MARK)}{exact}{_END}", f"{DATE_MARK}\\1{DATE_MARK}\\2")]
