"""Card numbers used by the vault's tests: published test numbers, never real cards.

Every one of them is searched for in the database dump and the logs of a test run, so a new
number used in a test belongs in TEST_PANS.
"""

from apps.pci.validation import luhn_is_valid

VISA = "4111111111111111"
VISA_SPACED = "4111 1111 1111 1111"
MASTERCARD = "5555555555554444"
MASTERCARD_2_SERIES = "2223003122003222"
AMEX = "378282246310005"
DISCOVER = "6011111111111117"
JCB = "3530111333300000"
DINERS = "36227206271667"
UNIONPAY = "6200000000000005"
MAESTRO = "6759649826438453"


def with_check_digit(body: str) -> str:
    """body followed by the digit that makes it Luhn-valid."""
    return next(body + d for d in "0123456789" if luhn_is_valid(body + d))


VISA_19 = with_check_digit("411111111111111111")
UNIONPAY_19 = with_check_digit("621234567890123456")

TEST_PANS = [
    VISA, MASTERCARD, MASTERCARD_2_SERIES, AMEX, DISCOVER, JCB, DINERS, UNIONPAY, MAESTRO,
    VISA_19, UNIONPAY_19,
]  # fmt: skip


ARABIC_INDIC_ZERO = "\u0660"
FULLWIDTH_ZERO = "\uff10"
DEVANAGARI_ZERO = "\u0966"


def written_in(number: str, zero: str) -> str:
    """number with its ASCII digits swapped for another script's (given by that script's 0)."""
    return number.translate({ord("0") + d: ord(zero) + d for d in range(10)})
