"""Which strings are card numbers (case 24), which brand they are, and why others are not."""

from datetime import date

import pytest

from apps.pci.validation import CardRejected, brand_of, validate_expiry, validate_pan
from tests.pci import cards

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize("written", ["4111 1111 1111 1111", "4111-1111-1111-1111"])
def test_a_visa_test_number_grouped_by_spaces_or_dashes_passes(written):
    card = validate_pan(written)

    assert card.digits == cards.VISA
    assert card.brand == "Visa"


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("4111x1111y1111z1111", "characters"),
        ("0", "length"),
        ("41111", "length"),
        ("41111111111111111112", "length"),  # 20 digits
        (cards.written_in(cards.VISA, cards.ARABIC_INDIC_ZERO), "characters"),
        (cards.written_in(cards.VISA, cards.FULLWIDTH_ZERO), "characters"),
        ("4111 1111 1111 111" + cards.written_in("1", cards.FULLWIDTH_ZERO), "characters"),
        (cards.written_in(cards.VISA, cards.DEVANAGARI_ZERO), "characters"),
    ],
)
def test_case_24_numbers_that_are_not_card_numbers_fail(written, rule):
    with pytest.raises(CardRejected) as refused:
        validate_pan(written)

    assert refused.value.rule == rule


@pytest.mark.parametrize(
    ("number", "brand"),
    [(cards.AMEX, "Amex"), (cards.VISA_19, "Visa"), (cards.UNIONPAY_19, "UnionPay")],
)
def test_case_24_luhn_valid_15_and_19_digit_numbers_of_real_brands_pass(number, brand):
    assert len(number) in (15, 19)
    assert validate_pan(number).brand == brand


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        (cards.VISA, "Visa"),
        (cards.MASTERCARD, "Mastercard"),
        (cards.MASTERCARD_2_SERIES, "Mastercard"),
        (cards.AMEX, "Amex"),
        (cards.DISCOVER, "Discover"),
        (cards.JCB, "JCB"),
        (cards.DINERS, "Diners"),
        (cards.UNIONPAY, "UnionPay"),
        (cards.MAESTRO, "Maestro"),
    ],
)
def test_each_brand_is_recognised_from_its_prefix(number, brand):
    assert validate_pan(number).brand == brand


def test_a_discover_range_inside_unionpays_prefix_goes_to_the_longer_prefix():
    assert brand_of("6221260000000000").name == "Discover"
    assert brand_of("6200000000000000").name == "UnionPay"


@pytest.mark.parametrize(
    ("written", "rule"),
    [
        ("4111  1111 1111 1111", "separators"),
        ("-4111 1111 1111 1111", "separators"),
        ("4111 1111 1111 1111-", "separators"),
        ("4111111111111112", "luhn"),
        ("5555555555554445", "luhn"),
        (cards.with_check_digit("999999999999999"), "brand"),
        (cards.with_check_digit("41111111111111"), "brand_length"),  # Visa has no 15 digits
        (cards.with_check_digit("378282246310000"), "brand_length"),  # a 16-digit Amex
        ("", "required"),
        ("4" * 200, "length"),
    ],
)
def test_each_refusal_names_the_rule_that_failed(written, rule):
    with pytest.raises(CardRejected) as refused:
        validate_pan(written)

    assert refused.value.rule == rule


def test_a_refusal_never_repeats_the_number_it_was_given():
    with pytest.raises(CardRejected) as refused:
        validate_pan("4111111111111112")

    assert "4111" not in f"{refused.value} {refused.value!r}"


def test_a_validated_card_does_not_show_its_number_when_printed():
    card = validate_pan(cards.VISA)

    assert cards.VISA not in repr(card)
    assert cards.VISA not in str(card)
    assert "1111" in repr(card)


@pytest.mark.parametrize(
    ("month", "year", "expected"),
    [(12, 2026, (12, 2026)), ("01", "27", (1, 2027)), ("7", "2030", (7, 2030))],
)
def test_an_expiry_this_month_or_later_passes(month, year, expected):
    assert validate_expiry(month, year, today=TODAY) == expected


@pytest.mark.parametrize(
    ("month", "year", "rule"),
    [
        (11, 2026, "expired"),
        (13, 2027, "expiry_month"),
        (0, 2027, "expiry_month"),
        ("1a", 2027, "expiry_month"),
        (True, 2027, "expiry_month"),
        (1, 2099, "expiry_year"),
        (1, cards.written_in("2027", cards.FULLWIDTH_ZERO), "expiry_year"),
        (1, None, "expiry_year"),
    ],
)
def test_an_impossible_or_passed_expiry_fails_with_its_rule(month, year, rule):
    with pytest.raises(CardRejected) as refused:
        validate_expiry(month, year, today=TODAY)

    assert refused.value.rule == rule
