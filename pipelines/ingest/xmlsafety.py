"""XML inside an office file is parsed with entity expansion and external entities disabled.

calamine's XML parser (quick-xml) expands no custom entity and fetches nothing, but a DTD in
a workbook is never legitimate (office suites do not write one) and it is how entity bombs
and external-entity tricks are built. So every XML member of a zip-based workbook is checked
first, defusedxml-style, with expat: a DOCTYPE or an entity declaration refuses the file. The
check reads only up to the first element (a DTD can only come before it), so it costs
nothing on large sheets.
"""

from __future__ import annotations

import xml.parsers.expat
import zipfile

from pipelines.ingest.errors import InputRefused

CHUNK = 1 << 16


class _Prologue(Exception):
    """Raised at the first element: the prologue, where a DTD would be, is over."""


def _forbid(kind: str):  # noqa: ANN202 - an expat handler
    def handler(*_args: object) -> None:
        raise InputRefused("unsafe_xml", detail=kind)
    return handler


def check_bytes(chunks: object, name: str = "") -> None:
    """Refuse XML whose prologue declares a DTD or entities; ``chunks`` is an iterable of
    bytes. Malformed XML is left for the real parser to report."""
    parser = xml.parsers.expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _forbid(f"{name} 含 DOCTYPE 声明")
    parser.EntityDeclHandler = _forbid(f"{name} 含实体声明")
    parser.ExternalEntityRefHandler = _forbid(f"{name} 引用外部实体")

    def start(*_args: object) -> None:
        raise _Prologue

    parser.StartElementHandler = start
    try:
        for chunk in chunks:  # type: ignore[attr-defined]
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Prologue:
        return
    except xml.parsers.expat.ExpatError:
        return  # not well-formed: calamine refuses it as a damaged file


def check_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> None:
    def chunks():  # noqa: ANN202
        with archive.open(member) as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    check_bytes(chunks(), member.filename)
