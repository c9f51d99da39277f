"""Every change to the vault, and every reading of a card number, goes through here."""

import functools
import logging
import re
import secrets
from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.core.classification import policy_of
from apps.core.statements import (
    get_by,
    insertable_fields,
    mark_inserted,
    prepared_cursor,
    values_of,
)
from apps.partners.models import Partner
from apps.pci import access
from apps.pci.access import Caller
from apps.pci.keys import (
    FINGERPRINT_BYTES,
    card_aead,
    card_aead_primary_key_id,
    card_fingerprint_prfs,
    ciphertext_key_id,
)
from apps.pci.models import EVENT_SUBJECT_PREFIX, CardToken
from apps.pci.validation import CardRejected, luhn_is_valid, validate_expiry, validate_pan
from apps.siem.events import Outcome, Severity, emit, new_event
from apps.siem.models import SecurityEvent

logger = logging.getLogger(__name__)

OPAQUE_PREFIX = "tok_"
# 24 characters of a 62-letter alphabet: about 143 bits, far beyond guessing.
OPAQUE_RANDOM_LENGTH = 24
_TOKEN_SHAPE = re.compile(r"^(?:tok_[A-Za-z0-9]{1,36}|[0-9]{12,19})$")
PURPOSE_MIN_LENGTH = 5
PURPOSE_MAX_LENGTH = 200
# A fresh token that collides with an existing one is drawn again, a bounded number of times.
TOKEN_DRAWS = 10
PURGE_BATCH_SIZE = 500
RETENTION_ACTOR = "system:retention"


class SecurityCodeRefused(ValueError):
    """A card security code (CVV/CVC) was offered for storage; it is never kept."""

    rule = "security_code"
    message = "The card security code must not be sent for storage."

    def __init__(self):
        super().__init__(self.message)


class DetokenizationRefused(PermissionError):
    """A card number was not revealed; ``reason`` says why (also recorded as an event)."""

    def __init__(self, reason: str):
        super().__init__(f"detokenisation refused: {reason}")
        self.reason = reason


def retention_period() -> timedelta:
    """How long a card is kept unless renewed: the classification policy for card numbers."""
    policy = policy_of(CardToken).fields["pan_ciphertext"]
    return timedelta(days=policy.retention_days)


def owner_reference(owner) -> str:
    if isinstance(owner, Partner):
        return f"partner:{owner.pk}"
    return f"user:{owner.pk}"


def _fingerprints(owner, digits: str) -> tuple[str, list[str]]:
    """(fingerprint under the primary key, fingerprints under the other keys) of owner's card.

    The owner is part of the input, so one card of two owners gives two unrelated values.
    """
    primary_id, prfs = card_fingerprint_prfs()
    message = f"{owner_reference(owner)}\x00{digits}".encode()
    every = {
        key_id: f"{key_id}:{one.compute(message, FINGERPRINT_BYTES).hex()}"
        for key_id, one in prfs.items()
    }
    return every.pop(primary_id), list(every.values())


def _associated_data(token: str) -> bytes:
    # Binds a ciphertext to its row: copied into another row, it no longer decrypts.
    return f"pci.card:{token}".encode()


def _new_token(token_format: str, digits: str) -> str:
    if token_format == CardToken.Format.OPAQUE:
        return OPAQUE_PREFIX + _random_letters_and_digits(OPAQUE_RANDOM_LENGTH)

    # Format-preserving: as many digits as the card, its last four kept, the rest random, and
    # the check digit deliberately wrong so that the token can never pass for a card number.
    head_length = len(digits) - 4
    head = f"{secrets.randbelow(10**head_length):0{head_length}d}"
    candidate = head + digits[-4:]
    if luhn_is_valid(candidate):
        # Changing one digit by one changes the Luhn sum by one or two: never still valid.
        first = (int(head[0]) + 1) % 10
        candidate = f"{first}{candidate[1:]}"
    return candidate


def _random_letters_and_digits(count: int) -> str:
    """``count`` characters drawn uniformly from A-Z, a-z and 0-9.

    URL-safe base64 of random bytes is uniform over 64 characters (whole 6-bit groups only,
    as 24 bytes give); leaving out its "-" and "_" keeps the other 62 uniform. One call to the
    random source instead of one per character.
    """
    letters = ""
    while len(letters) < count:
        letters += secrets.token_urlsafe(24).replace("-", "").replace("_", "")
    return letters[:count]


def _owner_reference_of(card: CardToken) -> str:
    """owner_reference(card.owner), from the row's own columns."""
    if card.owner_partner_id is not None:
        return f"partner:{card.owner_partner_id}"
    return f"user:{card.owner_user_id}"


def _owner_filter(owner) -> dict:
    if isinstance(owner, Partner):
        return {"owner_partner": owner}
    return {"owner_user": owner}


def tokenize_card(
    *,
    pan: str,
    expiry_month,
    expiry_year,
    owner,
    actor: Caller,
    via: str = "api",
    token_format: str = CardToken.Format.OPAQUE,
    security_code=None,
) -> tuple[CardToken, bool]:
    """Store a card for owner (a user or a Partner); return (its token, whether it is new).

    1. Refuse a security code outright, and a number or expiry that breaks a rule.
    2. Draw a random token, encrypt the number bound to it, and insert the row and its event
       in one statement.
    3. If the card is already held for this owner (the fingerprint is unique), keep the token
       it has: update its expiry and renew its retention instead.
    The common case, a new card, is one statement, like a plain insert, and no lookup; the
    unique fingerprint finds duplicates, even between concurrent requests.
    """
    if security_code not in (None, ""):
        raise SecurityCodeRefused
    if token_format not in CardToken.Format.values:
        raise CardRejected("token_format", "Unknown token format.")
    card = validate_pan(pan)
    month, year = validate_expiry(expiry_month, expiry_year)
    now = timezone.now()
    fingerprint, older_fingerprints = _fingerprints(owner, card.digits)

    if older_fingerprints:
        # After a rotation of the fingerprint key, a card stored before has an older value.
        existing = _held_card(owner, older_fingerprints)
        if existing is not None:
            return _renew_held_card(existing, month, year, now), False

    aead = card_aead()
    for _ in range(TOKEN_DRAWS):
        token = _new_token(token_format, card.digits)
        card_row = CardToken(
            token=token,
            token_format=token_format,
            pan_ciphertext=aead.encrypt(card.digits.encode(), _associated_data(token)),
            fingerprint=fingerprint,
            brand=card.brand,
            last_four=card.last_four,
            expiry_month=month,
            expiry_year=year,
            created_at=now,
            created_by=actor.reference,
            created_via=via,
            expires_at=now + retention_period(),
            **_owner_filter(owner),
        )
        event = new_event(
            "data.modification",
            actor=actor.reference,
            subject=card_row.event_subject,
            details={
                "action": "card.tokenized",
                "card": token,
                "owner": owner_reference(owner),
                "brand": card_row.brand,
                "last_four": card_row.last_four,
            },
        )
        if _insert_card_and_event(card_row, event):
            return card_row, True

        # Nothing was inserted: either this card is already held for this owner (perhaps
        # stored a moment ago by a concurrent request), and that row is the answer; or the
        # token was drawn before, and another is drawn.
        existing = _held_card(owner, [fingerprint])
        if existing is not None:
            return _renew_held_card(existing, month, year, now), False
    raise RuntimeError("could not draw an unused card token")


def _insert_card_and_event(card: CardToken, event: SecurityEvent) -> bool:
    """Insert a new card and the event recording it in one statement; False on a conflict.

    One statement is one round trip and, outside a transaction, its own transaction: both rows
    are written or neither. A clash on the token or the fingerprint inserts nothing instead of
    raising, so no savepoint is needed to survive it inside a caller's transaction. Saving the
    two models instead costs a BEGIN or a SAVEPOINT, two INSERTs and a COMMIT or a RELEASE.
    """
    # The connection itself: see apps.siem.events.insert_event.
    db = transaction.get_connection()
    if db.vendor != "postgresql":
        # The development database (SQLite) takes the plain way.
        try:
            with transaction.atomic():
                card.save(force_insert=True)
                event.save(force_insert=True)
        except IntegrityError:
            return False
        return True

    card_fields, event_fields = insertable_fields(CardToken), insertable_fields(SecurityEvent)
    with prepared_cursor(db) as cursor:
        cursor.execute(
            _card_and_event_sql(),
            [
                *values_of(card, card_fields, db),
                *values_of(event, event_fields, db),
            ],
        )
        inserted = cursor.fetchone()
    if inserted is None:
        return False

    # What saves would have done: detection receives the event once it commits.
    event_pk, card_pk = inserted
    mark_inserted(event, event_pk, db)
    mark_inserted(card, card_pk, db)
    return True


@functools.cache
def _card_and_event_sql() -> str:
    """The statement, built once from the two models' columns.

    The event's values are selected from the inserted card, so that a conflict inserts no
    event either; values in a SELECT list are not typed by the target columns, so each is
    cast to its column's type.
    """
    quote = connection.ops.quote_name
    card_fields, event_fields = insertable_fields(CardToken), insertable_fields(SecurityEvent)
    card_columns = ", ".join(quote(f.column) for f in card_fields)
    card_values = ", ".join(["%s"] * len(card_fields))
    event_columns = ", ".join(quote(f.column) for f in event_fields)
    event_values = ", ".join(f"%s::{f.db_type(connection)}" for f in event_fields)
    card_table, event_table = quote(CardToken._meta.db_table), quote(SecurityEvent._meta.db_table)
    # Only table and column names of the models are formatted in; every value is a parameter.
    return (
        f"WITH card AS (INSERT INTO {card_table} ({card_columns}) "  # noqa: S608
        f"VALUES ({card_values}) ON CONFLICT DO NOTHING RETURNING id) "
        f"INSERT INTO {event_table} ({event_columns}) "
        f"SELECT {event_values} FROM card RETURNING id, (SELECT id FROM card)"
    )


def _held_card(owner, fingerprints: list[str]) -> CardToken | None:
    return CardToken.objects.filter(fingerprint__in=fingerprints, **_owner_filter(owner)).first()


def _renew_held_card(card: CardToken, month: int, year: int, now) -> CardToken:
    card.expiry_month, card.expiry_year = month, year
    card.renewed_at = now
    card.expires_at = now + retention_period()
    card.save(update_fields=["expiry_month", "expiry_year", "renewed_at", "expires_at"])
    return card


def renew_card_token(*, card: CardToken, actor: Caller) -> CardToken:
    """Keep a card for another retention period from now."""
    now = timezone.now()
    card.renewed_at = now
    card.expires_at = now + retention_period()
    card.save(update_fields=["renewed_at", "expires_at"])
    emit(
        "data.modification",
        actor=actor.reference,
        subject=card.event_subject,
        details={"action": "card.renewed", "card": card.token},
    )
    return card


def delete_card_token(*, card: CardToken, actor: Caller) -> None:
    """Forget a card: the row, and with it the only copy of the encrypted number, goes."""
    token, owner = card.token, owner_reference(card.owner)
    card.delete()
    emit(
        "data.modification",
        actor=actor.reference,
        subject=f"{EVENT_SUBJECT_PREFIX}{token}",
        details={"action": "card.deleted", "card": token, "owner": owner},
    )


def detokenize_card(*, token: str, purpose: str, actor: Caller) -> str:
    """Reveal the number behind a token to a caller who may see it, and record that they did.

    1. A purpose must be stated.
    2. The token must exist, and the caller may see it: unknown and forbidden are refused
       alike, so that refusals do not tell which tokens exist.
    3. A user must have passed a second factor within five minutes (in the browser session,
       or, for a JWT, when its token session began); a client's token must carry the
       cards:detokenize scope (checked in step 2).
    4. An expired card is not revealed; the retention purge is about to delete it.
    Every refusal is recorded as a failed data.access event before it is raised, so callers
    must let that event commit (the API returns its refusal rather than rolling back).
    """
    purpose = (purpose or "").strip()
    shown_token = _token_for_event(token)

    def refuse(reason: str, card: CardToken | None = None) -> DetokenizationRefused:
        _record_access(actor, shown_token, purpose, card, reason=reason, succeeded=False)
        logger.warning("card detokenisation refused: %s by %s", reason, actor.reference)
        return DetokenizationRefused(reason)

    if not PURPOSE_MIN_LENGTH <= len(purpose) <= PURPOSE_MAX_LENGTH:
        raise refuse("no_purpose")
    # The permission check's first read (the grant versions, in Redis) is sent before the card
    # is read, so that its answer arrives while PostgreSQL finds the card.
    with access.deciding_soon_for(actor):
        # The row alone, by a statement built once (apps/core/statements.py): the event names
        # the owner by id, so neither owner is loaded.
        card = get_by(CardToken, "token", shown_token)
        if card is None:
            raise refuse("unknown_token")
        allowed, why = access.authorized(actor, access.DETOKENIZE, card)
    if not allowed:
        raise refuse(why or "not_permitted", card)
    if not actor.is_client and not actor.second_factor_recent:
        raise refuse("second_factor_required", card)
    if card.expires_at <= timezone.now():
        raise refuse("expired", card)

    number = card_aead().decrypt(bytes(card.pan_ciphertext), _associated_data(card.token))
    _record_access(actor, card.token, purpose, card, reason=why, succeeded=True)
    return number.decode()


def _token_for_event(token) -> str:
    """The token as it may be written into an event: a card number offered as a token is not.

    Format-preserving tokens fail the Luhn check by construction, so one that passes it was
    never a token of ours and may well be the card number itself.
    """
    if not isinstance(token, str) or not _TOKEN_SHAPE.match(token):
        return "(invalid)"
    if token[0] != "t" and luhn_is_valid(token):
        return "(card number)"
    return token


def _record_access(
    actor: Caller, token: str, purpose: str, card, *, reason: str, succeeded: bool
) -> None:
    emit(
        "data.access",
        actor=actor.reference,
        subject=f"{EVENT_SUBJECT_PREFIX}{token}",
        outcome=Outcome.SUCCESS if succeeded else Outcome.FAILURE,
        severity=Severity.INFO if succeeded else Severity.MEDIUM,
        details={
            "action": "card.detokenize",
            "card": token,
            "owner": _owner_reference_of(card) if card is not None else "",
            "purpose": purpose[:PURPOSE_MAX_LENGTH],
            "reason": reason,
            "via_client": actor.is_client,
            "api_session": actor.token_session_id or "",
        },
    )


def purge_expired_card_tokens(*, now=None) -> int:
    """Delete every card past its retention date, in batches; return how many went.

    Safe to run twice or in two workers at once: rows are claimed with SKIP LOCKED where the
    database has it, and a row already gone is simply not found again.
    """
    now = now or timezone.now()
    deleted = 0
    while True:
        with transaction.atomic():
            batch = list(
                CardToken.objects.select_for_update(skip_locked=True)
                .filter(expires_at__lte=now)
                .order_by("id")[:PURGE_BATCH_SIZE]
            )
            if not batch:
                return deleted
            for card in batch:
                emit(
                    "data.modification",
                    actor=RETENTION_ACTOR,
                    subject=card.event_subject,
                    details={
                        "action": "card.purged",
                        "card": card.token,
                        "owner": owner_reference(card.owner),
                        "expired_at": card.expires_at.isoformat(),
                    },
                )
            CardToken.objects.filter(id__in=[card.id for card in batch]).delete()
            deleted += len(batch)


def reencrypt_card_tokens(*, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Re-encrypt every card whose number was encrypted under a key that is no longer primary.

    Run after the card keyset gained a new primary key; once it reports 0, the old key can be
    disabled. Safe to run twice or concurrently: each batch locks its rows, skipping locked
    ones, and a row already under the primary key is left alone.
    """
    primary = card_aead_primary_key_id()
    if primary is None:
        return 0
    aead = card_aead()
    done, last_id = 0, 0
    while True:
        with transaction.atomic():
            batch = list(
                CardToken.objects.select_for_update(skip_locked=True)
                .filter(id__gt=last_id)
                .order_by("id")
                .only("id", "token", "pan_ciphertext")[:batch_size]
            )
            if not batch:
                return done
            for card in batch:
                ciphertext = bytes(card.pan_ciphertext)
                if ciphertext_key_id(ciphertext) == primary:
                    continue
                associated = _associated_data(card.token)
                card.pan_ciphertext = aead.encrypt(
                    aead.decrypt(ciphertext, associated), associated
                )
                card.save(update_fields=["pan_ciphertext"])
                done += 1
            last_id = batch[-1].id
