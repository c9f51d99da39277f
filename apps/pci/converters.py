"""The `card_token` path converter: card addresses match only the shapes a token can have.

Registered by PciConfig.ready(), before any URLconf loads.

Anything else, a NUL byte or a five-thousand-character string, is a 404 from the URL resolver
and never reaches a query (PostgreSQL refuses NUL bytes with an error, not an empty result).
"""


class CardTokenConverter:
    # The shapes services.py issues: opaque "tok_..." tokens and format-preserving digits.
    regex = r"tok_[A-Za-z0-9]{1,36}|[0-9]{12,19}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value
