"""Spreadsheet-formula neutralisation of export CSV cells."""

import csv
import io

import pytest

from apps.gdpr.archive import csv_cell, table_csv


@pytest.mark.parametrize(
    "text",
    ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tleading tab", "\rleading return", "=HYPERLINK(x)"],
)
def test_formula_like_text_is_prefixed_with_a_quote(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", [42, -7, 3.5, "-12", "+3.25", "0"])
def test_numbers_stay_numbers(value):
    assert csv_cell(value) == value


def test_plain_text_and_empty_values_are_unchanged():
    assert csv_cell("Erin") == "Erin"
    assert csv_cell("a=b") == "a=b"
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"


def test_nested_values_are_written_as_json_and_neutralised_too():
    assert csv_cell({"a": 1}) == '{"a": 1}'
    assert csv_cell(["=x"]) == '["=x"]'


def test_a_table_keeps_every_column_seen_in_any_row():
    text = table_csv([{"a": 1}, {"b": "=2"}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["a", "b"], ["1", ""], ["", "'=2"]]
