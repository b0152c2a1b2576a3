"""The reason wording's fast paths (``reasons.row_renderer`` and ``Issue.maker``, for a note on
every row of a file) must give exactly the text and issue of ``reasons.render`` and
``Issue.make``, for every reason; ``reasons.row_sql`` the same text rendered by DuckDB;
``reasons.scopes`` each issue's ``Issue.scope``."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.ingest import reasons
from pipelines.ingest.receipt import Issue

VALUES = ("", "110101198001010011", "{value}", "姓名　", "a\nb")


@pytest.mark.parametrize("code", sorted(reasons.BY_CODE))
def test_row_renderer_is_render(code: str) -> None:
    for header in ("身份证号", "", "{detail}"):
        text = reasons.row_renderer(code, header)
        for value in VALUES:
            for detail in VALUES:
                assert text(value, detail) == reasons.render(code, header=header, value=value,
                                                             detail=detail)


@pytest.mark.parametrize("code", sorted(reasons.BY_CODE))
def test_row_sql_is_row_renderer(code: str) -> None:
    values = [*VALUES, "O'Brien", None]
    with duckdb.connect() as con:
        for header in ("身份证号", "", "{detail}", "it's"):
            text = reasons.row_renderer(code, header)
            message, fix = reasons.row_sql(code, header, "v", "d")
            got = con.execute(f"select {message}, {fix} from (select unnest($v) as v) "
                              "cross join (select unnest($v) as d)", {"v": values}).fetchall()
            want = [text(v or "", d or "") for v in values for d in values]
            assert sorted(got) == sorted(want)


@pytest.mark.parametrize("code", sorted(reasons.BY_CODE))
def test_issue_maker_is_issue_make(code: str) -> None:
    for column, header in (("id_number", "身份证号"), ("name", None), (None, None)):
        make = Issue.maker(code, column=column, header=header)
        for value in (None, 0, *VALUES):
            for detail in (None, *VALUES):
                assert make(12, value, detail) == Issue.make(
                    code, source_row=12, column=column, header=header, value=value,
                    detail=detail)  # type: ignore[arg-type]


def test_scopes_are_each_issues_scope() -> None:
    codes = [*sorted(reasons.BY_CODE), "id_unmatched", "id_unmatched"]
    assert reasons.scopes(codes) == [Issue(code, "", "").scope for code in codes]
