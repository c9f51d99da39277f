"""URL converters shared by every app."""

from django.urls import register_converter
from django.urls.converters import get_converters


def register_once(converter, type_name: str) -> None:
    """Register a converter unless it already is: an app's ready() runs again whenever a test
    builds an app registry of its own, and Django 6 refuses a second registration."""
    if get_converters().get(type_name).__class__ is not converter:
        register_converter(converter, type_name)


class RowIdConverter:
    """A row id in a URL: digits, at most 18 of them.

    Django's ``int`` takes any number of digits, and a number past the database's integer range
    fails inside the query (an overflow, a 500) instead of simply matching nothing. Eighteen
    digits stay below 2**63 for every id the database can hold; anything longer is a 404.
    """

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
