"""Remove secrets from structures and text before they are stored or logged.

Used by the security-event store (on the details of every event) and by the logging filter.
Keys are judged by name: anything that looks like it holds a credential is replaced whole.
"""

import re

REDACTED = "[redacted]"

_SECRET_KEY_NAME = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[_-]?key|authori[sz]ation|cookie|session[_-]?key"
    r"|card[_-]?number|cvv|cvc|private[_-]?key|signature"
    # Short words only count as whole parts of a name: "pan" but not "company".
    r"|(?:^|[_-])(?:otp|code|pan|pin)(?:$|[_-])",
    re.IGNORECASE,
)
# A run of 12-19 digits, optionally split by single spaces or dashes, looks like a card number.
_CARD_LIKE = re.compile(r"(?<!\d)(?:\d[ -]?){11,18}\d(?!\d)")
# Keys that are safe although they match the pattern above.
_ALLOWED_KEY_NAMES = {"status_code", "code_count", "country_code", "error_code"}


def is_secret_key_name(name: str) -> bool:
    return name.lower() not in _ALLOWED_KEY_NAMES and bool(_SECRET_KEY_NAME.search(name))


def scrub_text(text: str) -> str:
    return _CARD_LIKE.sub(REDACTED, text)


def scrub(value):
    """Return a copy of value with secret-named keys and card-like numbers redacted."""
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_key_name(str(key)) else scrub(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [scrub(item) for item in value]
    if isinstance(value, str):
        return scrub_text(value)
    return value
