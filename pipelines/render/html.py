"""The one Jinja environment every HTML document is drawn with, and its template folder.

Templates live in ``pipelines/render/templates`` beside one style sheet (``_style.html.j2``);
autoescape is on and undefined names fail loudly, so a template cannot silently drop a field
or let user text through unescaped.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def chinese_number(n: int) -> str:
    """1 -> 一, 12 -> 十二, 40 -> 四十: section numbers as official documents write them."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")
    return str(n)


@functools.cache
def environment() -> jinja2.Environment:
    """The environment over the template folder, one per process: Jinja caches compiled
    templates in it (and recompiles one whose file changed), where a fresh environment would
    compile the template again on every document (~15 ms a feedback report)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters["cn"] = chinese_number
    return env
