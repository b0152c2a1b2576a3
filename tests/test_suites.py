"""The committed GX suites are what the contracts compile to, and GX accepts every one."""

from __future__ import annotations

import great_expectations as gx

from pipelines.contracts import all_contracts
from pipelines.ingest import reasons, suites
from pipelines.ingest.validate import load_suite


def test_committed_suites_match_their_contracts() -> None:
    assert suites.drifted_suites() == [], "run `cadre suites` and commit expectations/"


def test_every_suite_loads_in_gx_and_names_a_known_reason() -> None:
    for source in all_contracts():
        suite = load_suite(source)
        gx_suite = gx.ExpectationSuite(**suite)
        assert len(gx_suite.expectations) == len(suite["expectations"]) > 0
        for expectation in suite["expectations"]:
            assert expectation["meta"]["reason"] in reasons.BY_CODE


def test_required_columns_and_code_lists_are_in_the_suite() -> None:
    for source, contract in all_contracts().items():
        kinds = {(e["type"], e["kwargs"].get("column")) for e in load_suite(source)["expectations"]}
        for field in contract.fields:
            if field.required:
                assert ("expect_column_values_to_not_be_null", field.name) in kinds
            if field.type == "code":
                assert ("expect_column_values_to_be_in_set", field.name) in kinds
