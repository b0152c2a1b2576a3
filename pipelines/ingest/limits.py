"""What one submitted file may hold, read once from the settings table.

Each limit is checked before the work it protects is done: the file size before reading, a
zip's expanded size and ratio before unzipping, a sheet's used range (its rows, its columns
and rows x columns) before calamine builds it, JSON depth and number length while decoding. A
breach refuses the file with the limit named (reason codes in ``pipelines.ingest.reasons``),
never a crash or a swap storm.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines import settings


@dataclass(frozen=True)
class Limits:
    file_bytes: int
    rows: int
    columns: int
    cells: int  # a spreadsheet's used range, rows x columns
    cell_chars: int
    uncompressed_bytes: int
    compression_ratio: float
    json_depth: int
    number_digits: int

    @classmethod
    def current(cls) -> Limits:
        def number(name: str) -> int:
            return int(settings.get(name))

        return cls(file_bytes=number("CADRE_MAX_FILE_BYTES"), rows=number("CADRE_MAX_ROWS"),
                   columns=number("CADRE_MAX_COLUMNS"),
                   cells=number("CADRE_MAX_CELLS"), cell_chars=number("CADRE_MAX_CELL_CHARS"),
                   uncompressed_bytes=number("CADRE_MAX_UNCOMPRESSED_BYTES"),
                   compression_ratio=float(settings.get("CADRE_MAX_COMPRESSION_RATIO")),
                   json_depth=number("CADRE_MAX_JSON_DEPTH"),
                   number_digits=number("CADRE_MAX_NUMBER_DIGITS"))


def size_zh(n: int) -> str:
    """A byte count as a unit reads it: 12.3 MB."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} 字节"
