"""The reason wording's fast path (``reasons.row_renderer``, for a note on every row of a file)
must give exactly the text of ``reasons.render``, for every reason."""

from __future__ import annotations

import pytest

from pipelines.ingest import reasons

VALUES = ("", "110101198001010011", "{value}", "姓名　", "a\nb")


@pytest.mark.parametrize("code", sorted(reasons.BY_CODE))
def test_row_renderer_is_render(code: str) -> None:
    for header in ("身份证号", "", "{detail}"):
        text = reasons.row_renderer(code, header)
        for value in VALUES:
            for detail in VALUES:
                assert text(value, detail) == reasons.render(code, header=header, value=value,
                                                             detail=detail)
