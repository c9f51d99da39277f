"""Is this a card number, and of which brand? Is this expiry still good?

Every refusal names the rule that failed (``CardRejected.rule``) and never repeats the number
it was given, so an error can be shown, logged or returned by the API as it is.
"""

import re
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

MIN_DIGITS = 12
MAX_DIGITS = 19
# Anything longer cannot be a card even with a separator between every digit; refusing it
# first keeps the work done on hostile input bounded.
MAX_INPUT_LENGTH = 2 * MAX_DIGITS
# ASCII digits only: str.isdigit() and \d also accept Arabic-Indic, fullwidth and other digits.
_WRITTEN_PAN = re.compile(r"[0-9]+(?:[ -][0-9]+)*")
_ALLOWED_CHARACTERS = frozenset("0123456789 -")
# Cards printed this far ahead do not exist; a year beyond it is a typing mistake.
MAX_YEARS_AHEAD = 20


class CardRejected(ValueError):
    """A card number or expiry broke one rule; ``rule`` says which one."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Brand:
    name: str
    # (first prefix, last prefix) of the same number of digits, inclusive.
    ranges: tuple[tuple[str, str], ...]
    lengths: frozenset[int]


def _lengths(first: int, last: int) -> frozenset[int]:
    return frozenset(range(first, last + 1))


# Issuer prefixes and the lengths each brand issues. When prefixes overlap (a Discover range
# inside UnionPay's 62), the longest matching prefix wins.
BRANDS = (
    Brand("Visa", (("4", "4"),), frozenset({13, 16, 19})),
    Brand("Mastercard", (("51", "55"), ("2221", "2720")), frozenset({16})),
    Brand("Amex", (("34", "34"), ("37", "37")), frozenset({15})),
    Brand(
        "Discover",
        (("6011", "6011"), ("644", "649"), ("65", "65"), ("622126", "622925")),
        _lengths(16, 19),
    ),
    Brand("JCB", (("3528", "3589"),), _lengths(16, 19)),
    Brand(
        "Diners",
        (("300", "305"), ("3095", "3095"), ("36", "36"), ("38", "39")),
        _lengths(14, 19),
    ),
    Brand("UnionPay", (("62", "62"), ("81", "81")), _lengths(16, 19)),
    Brand(
        "Maestro",
        (
            ("5018", "5018"), ("5020", "5020"), ("5038", "5038"), ("5893", "5893"),
            ("6304", "6304"), ("6759", "6759"), ("6761", "6763"),
        ),
        _lengths(12, 19),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class ValidCard:
    """A validated card number: its digits, brand and last four."""

    digits: str = ""
    brand: str = ""

    @property
    def last_four(self) -> str:
        return self.digits[-4:]

    def __repr__(self) -> str:
        # A dataclass would print the digits; this one is shown in tracebacks and debuggers.
        return f"ValidCard(brand={self.brand!r}, last_four={self.last_four!r})"

    __str__ = __repr__


def luhn_is_valid(digits: str) -> bool:
    """The mod-10 check digit of ISO/IEC 7812 over a string of ASCII digits."""
    total = 0
    for position, character in enumerate(reversed(digits)):
        value = ord(character) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def brand_of(digits: str) -> Brand | None:
    """The brand whose longest prefix range matches, whatever the length."""
    best, best_prefix = None, 0
    for brand in BRANDS:
        for first, last in brand.ranges:
            size = len(first)
            if size > best_prefix and first <= digits[:size] <= last:
                best, best_prefix = brand, size
    return best


def validate_pan(written: object) -> ValidCard:
    """Return the card behind a written number, or raise CardRejected naming the broken rule.

    1. Only ASCII digits, with single spaces or dashes between groups of digits.
    2. 12 to 19 digits.
    3. The Luhn check digit is right.
    4. A known brand issues numbers with this prefix and this length.
    """
    if not isinstance(written, str):
        raise CardRejected("format", "The card number must be text.")
    written = written.strip(" ")
    if len(written) > MAX_INPUT_LENGTH:
        raise CardRejected("length", "The card number is too long.")
    if not written:
        raise CardRejected("required", "Enter a card number.")
    if not set(written) <= _ALLOWED_CHARACTERS:
        raise CardRejected(
            "characters", "The card number may contain only the digits 0-9, spaces and dashes."
        )
    if not _WRITTEN_PAN.fullmatch(written):
        raise CardRejected(
            "separators", "Spaces or dashes may only appear singly, between groups of digits."
        )

    digits = written.replace(" ", "").replace("-", "")
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise CardRejected(
            "length", f"A card number has {MIN_DIGITS} to {MAX_DIGITS} digits, not {len(digits)}."
        )
    if not luhn_is_valid(digits):
        raise CardRejected("luhn", "The card number's check digit is wrong.")

    brand = brand_of(digits)
    if brand is None:
        raise CardRejected("brand", "The card number's prefix belongs to no accepted brand.")
    if len(digits) not in brand.lengths:
        raise CardRejected(
            "brand_length", f"{brand.name} card numbers do not have {len(digits)} digits."
        )
    return ValidCard(digits=digits, brand=brand.name)


def validate_expiry(month: object, year: object, *, today: date | None = None) -> tuple[int, int]:
    """Return (month, four-digit year) of an expiry that has not passed, or raise CardRejected.

    A card is valid through the last day of its expiry month. Two-digit years are read as 20YY.
    """
    today = today or timezone.now().date()
    month_number = _small_int(month, "expiry_month", "The expiry month must be a number.")
    year_number = _small_int(year, "expiry_year", "The expiry year must be a number.")

    if not 1 <= month_number <= 12:
        raise CardRejected("expiry_month", "The expiry month must be between 1 and 12.")
    if 0 <= year_number <= 99:
        year_number += 2000
    if not 2000 <= year_number <= today.year + MAX_YEARS_AHEAD:
        raise CardRejected("expiry_year", "The expiry year is not a plausible year.")
    if (year_number, month_number) < (today.year, today.month):
        raise CardRejected("expired", "The card has expired.")
    return month_number, year_number


def _small_int(value: object, rule: str, message: str) -> int:
    if isinstance(value, bool):
        raise CardRejected(rule, message)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and 1 <= len(value) <= 4 and set(value) <= set("0123456789"):
        return int(value)
    raise CardRejected(rule, message)
