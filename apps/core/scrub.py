"""Remove secrets from structures and text before they are stored or logged.

Used by the security-event store (on the details of every event) and by the logging filters.
Keys are judged by name: anything that looks like it holds a credential is replaced whole.
Text is searched for card numbers: runs of 12 to 19 digits, possibly split into groups by a
short run of spaces or dashes of any kind (or their URL encodings), that pass the Luhn check.
Checking the Luhn digit keeps order numbers, timestamps and format-preserving card tokens (which
fail it on purpose) readable, while any real card number, however it is grouped or whatever
digits it is written in, goes.

Text is also searched for one-time secrets carried in URLs, because request paths reach logs
(the development server's request lines, gunicorn's access log, Django's "Not Found" warnings):
the key segment of an email-confirmation or password-reset link, and the value of any query
parameter whose name says it holds a secret (an OAuth ``code``, a ``token``, a ``key``...).
"""

import functools
import re
import unicodedata
from urllib.parse import unquote_plus

REDACTED = "[redacted]"

_SECRET_KEY_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|authori[sz]ation|cookie|session[_-]?key"
    r"|card[_-]?number|cvv|cvc|private[_-]?key|signature"
    # Short words only count as whole parts of a name: "pan" but not "company".
    r"|(?:^|[_-])(?:otp|code|pan|pin)(?:$|[_-])",
    re.IGNORECASE,
)
# Keys that are safe although they match the pattern above.
_ALLOWED_KEY_NAMES = {"status_code", "code_count", "country_code", "error_code"}

# Groups of digits joined by up to three spaces or dashes, of whatever kind people type or
# paste: tabs, no-break and thin spaces, en dashes, minus signs, " - ". \d on purpose: a card
# number written in Arabic-Indic or fullwidth digits is still a card number.
_SEPARATOR = r"[\s\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d]{1,3}"
_DIGIT_GROUPS = re.compile(rf"\d+(?:{_SEPARATOR}\d+)*")
_GROUP = re.compile(r"\d+")
# Card numbers as URLs and forms write them: any separator encoded ("+", "%20", "%2D",
# "%C2%A0" and the like, up to three characters' worth), and groups of four joined by dots.
# Only four-digit groups count with dots, so IP addresses and timings stay. The first form
# starts only where a run of digits starts and never gives digits back: otherwise a long run
# with no separator is tried from each of its digits in turn, quadratic work that a client
# sending a few thousand digits turns into seconds of CPU per log line or event.
_ENCODED_DIGIT_GROUPS = re.compile(
    r"(?<!\d)\d++(?:(?:\+|%[0-9A-Fa-f]{2}|-){1,9}+\d++)++|\d{4}(?:\.\d{4}){2,4}"
)
# \d as in the patterns above: any digit either of them could start from.
_ANY_DIGIT = re.compile(r"\d")
_ENCODED_SEPARATOR = re.compile(r"(?:\+|%[0-9A-Fa-f]{2}|-)+|\.")
CARD_MIN_DIGITS = 12
CARD_MAX_DIGITS = 19
# Luhn doubles every second digit from the right and adds the digits of the product.
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


# The path segment after these is a one-time key: allauth's email confirmation
# (/accounts/confirm-email/<key>/) and password reset (/accounts/password/reset/key/<key>/).
_URL_KEY_SEGMENT = re.compile(r"(/(?:confirm-email|reset/key)/)[^/\s?#\"']+")
# name=value pairs of a query string; the value ends where the URL or the pair does.
_QUERY_PAIR = re.compile(r"([?&;]([^=&;\s#\"'?]+)=)([^&;\s#\"']*)")
# Query parameters that carry secrets although their names pass the key-name test: OAuth's
# state binds a callback to its browser session, a bare key is a one-time link's secret.
_SECRET_QUERY_NAMES = {"key", "state", "ticket", "nonce", "code_verifier"}


def is_secret_key_name(name: str) -> bool:
    if len(name) <= _REMEMBERED_NAME_LENGTH:
        return _is_secret_short_name(name)
    return _judge_key_name(name)


# Every security event and log record asks about the same few dozen key names; a short name's
# answer is kept (a bounded number of them, so names a client invents cannot fill memory).
_REMEMBERED_NAME_LENGTH = 64


@functools.lru_cache(maxsize=2048)
def _is_secret_short_name(name: str) -> bool:
    return _judge_key_name(name)


def _judge_key_name(name: str) -> bool:
    return name.lower() not in _ALLOWED_KEY_NAMES and bool(_SECRET_KEY_NAME.search(name))


def _luhn(values: list[int]) -> bool:
    total = 0
    for position, value in enumerate(reversed(values)):
        total += _DOUBLED[value] if position % 2 == 1 else value
    return total % 10 == 0


def _card_spans(run: str) -> list[tuple[int, int]]:
    """Where in a run of digit groups a card number sits, as (start, end) offsets.

    A card may be only part of the run ("order 12 4111 1111 1111 1111"), so every sequence of
    whole consecutive groups holding 12-19 digits is tried, leftmost and longest first.
    """
    groups = [(m.start(), m.end(), [unicodedata.digit(c) for c in m.group()])
              for m in _GROUP.finditer(run)]  # fmt: skip
    spans = []
    first = 0
    while first < len(groups):
        found = None
        digits: list[int] = []
        for last in range(first, len(groups)):
            digits = digits + groups[last][2]
            if len(digits) > CARD_MAX_DIGITS:
                break
            if len(digits) >= CARD_MIN_DIGITS and _luhn(digits):
                found = last
        if found is None:
            first += 1
            continue
        spans.append((groups[first][0], groups[found][1]))
        first = found + 1
    return spans


def _redact_run(match: re.Match) -> str:
    run = match.group()
    if sum(c.isdigit() for c in run) < CARD_MIN_DIGITS:
        return run
    spans = _card_spans(run)
    for start, end in reversed(spans):
        run = run[:start] + REDACTED + run[end:]
    return run


def _redact_encoded_run(match: re.Match) -> str:
    run = match.group()
    return REDACTED if _card_spans(_ENCODED_SEPARATOR.sub(" ", run)) else run


def contains_card_number(text: str) -> bool:
    return scrub_text(text) != text


def _redact_query_value(match: re.Match) -> str:
    # As the server reads it: "%63ode" is "code".
    name = unquote_plus(match.group(2))
    if name.lower() in _SECRET_QUERY_NAMES or is_secret_key_name(name):
        return match.group(1) + REDACTED
    return match.group()


def scrub_url_secrets(text: str) -> str:
    """Text with the one-time keys and secret query values of any URL in it replaced."""
    if "/" not in text and "=" not in text:
        return text
    text = _URL_KEY_SEGMENT.sub(lambda match: match.group(1) + REDACTED, text)
    return _QUERY_PAIR.sub(_redact_query_value, text)


def scrub_text(text: str) -> str:
    """Text with every card number and every secret of a URL in it replaced by a marker."""
    if not isinstance(text, str):
        text = str(text)
    # Both card patterns need a digit; most text has none, and one search costs less than the
    # two substitutions that would find nothing.
    if _ANY_DIGIT.search(text):
        text = _ENCODED_DIGIT_GROUPS.sub(_redact_encoded_run, text)
        text = _DIGIT_GROUPS.sub(_redact_run, text)
    return scrub_url_secrets(text)


def scrub(value):
    """Return a copy of value with secret-named keys and card numbers redacted."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_key_name(str(key)) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**11:
        # A card number stored as an integer is still a card number.
        return REDACTED if scrub_text(str(value)) != str(value) else value
    return value
