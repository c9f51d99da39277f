"""Who is calling the vault, and what they may do with a card.

Decisions come from access control (``apps.rbac``: permissions ``cards:<action>:<scope>`` with
scopes ``own``, ``partner:<id>`` and ``all``) and, for revealing a number, from the MFA step-up
record (``apps.accounts.stepup``). This module adds the rules that belong to cards alone.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from apps.accounts.stepup import recently_passed_second_factor
from apps.rbac.services import authorize, deciding_soon

SECOND_FACTOR_WINDOW_SECONDS = 300
RESOURCE = "cards"

# Actions on cards, as they appear in permission strings ("cards:detokenize:partner:42") and
# OAuth scopes ("cards:detokenize").
TOKENIZE = "tokenize"
READ = "read"
DELETE = "delete"
DETOKENIZE = "detokenize"


@dataclass(frozen=True)
class Caller:
    """The acting party: a signed-in user, or a machine client acting as its service user.

    A client acts for one partner (``partner``, fixed by its OAuth application) with the scopes
    of its token; ``scopes`` is None for users, whose rights come from their roles alone.
    """

    user: object
    client_id: str | None = None
    scopes: frozenset[str] | None = None
    partner: object = None
    second_factor_recent: bool = False
    # The token session of a JWT caller, named in its access events.
    token_session_id: str | None = None

    @classmethod
    def for_user(cls, user, *, second_factor_recent: bool = False) -> "Caller":
        return cls(user=user, second_factor_recent=second_factor_recent)

    @property
    def is_client(self) -> bool:
        return self.client_id is not None

    @property
    def reference(self) -> str:
        if self.is_client:
            return f"client:{self.client_id}"
        return f"user:{self.user.pk}" if getattr(self.user, "pk", None) else "anonymous"

    def has_scope(self, action: str) -> bool:
        return self.scopes is not None and f"{RESOURCE}:{action}" in self.scopes


def caller_from_request(request) -> Caller:
    """The caller of a page or API request (DRF's request or Django's).

    A partner client is known by its OAuth2 token, a user client by the token session its JWT
    belongs to (set by ``apps.api.authentication``), and a person in a browser by their session.
    """
    auth = getattr(request, "auth", None)
    application = getattr(auth, "application", None)
    if application is not None:
        # An OAuth2 access token: its client acts as the application's service user.
        return Caller(
            user=request.user,
            client_id=str(application.client_id),
            scopes=frozenset(str(getattr(auth, "scope", "") or "").split()),
            partner=getattr(request, "partner", None),
        )
    token_session = getattr(request, "token_session", None)
    if token_session is not None:
        return Caller(
            user=request.user,
            second_factor_recent=token_session_passed_second_factor_recently(token_session),
            token_session_id=str(token_session.pk),
        )
    return Caller(
        user=request.user,
        second_factor_recent=second_factor_is_recent(getattr(request, "_request", request)),
    )


def token_session_passed_second_factor_recently(token_session, *, now=None) -> bool:
    """Whether a JWT's token session passed a second factor within the last five minutes.

    A token session passes its second factor once, at the token endpoint, when it begins;
    refreshing its tokens asks for no code. So its second factor is exactly as old as the
    session row, which the request's authentication has just read. The token's own
    ``mfa_verified`` claim is not consulted: the row decides.
    """
    if not token_session.mfa_verified or token_session.ended_at is not None:
        return False
    age = (now or timezone.now()) - token_session.created_at
    return age < timedelta(seconds=SECOND_FACTOR_WINDOW_SECONDS)


def second_factor_is_recent(request) -> bool:
    """Whether the browser session passed a second factor within the last five minutes."""
    if not hasattr(request, "session"):
        # Neither a token session (asked first) nor a browser session: no second factor.
        return False
    return bool(
        recently_passed_second_factor(request, within_seconds=SECOND_FACTOR_WINDOW_SECONDS)
    )


def deciding_soon_for(caller: Caller):
    """A block at whose end ``authorized(caller, ...)`` is asked; see ``rbac.deciding_soon``."""
    return deciding_soon(caller.user)


def authorized(caller: Caller, action: str, card) -> tuple[bool, str]:
    """May the caller do ``action`` on ``card``? (yes, why). ``card`` may be unsaved: a card
    about to be tokenised for an owner, or standing for an owner's cards in a list.

    1. Nobody anonymous or inactive.
    2. A client needs the action's scope in its token, acts only for the partner its OAuth
       application belongs to, and only as far as its service user's roles allow.
    3. A user tokenises, lists and deletes their own cards; revealing a number always needs an
       explicit permission, even for its owner.
    4. Everything else is decided by access control.
    """
    user = caller.user
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False, "not_authenticated"
    if caller.is_client:
        if not caller.has_scope(action):
            return False, "scope_missing"
        if caller.partner is None or card.owner_partner_id != caller.partner.pk:
            return False, "not_permitted"
    elif action != DETOKENIZE and card.owner_user_id == user.pk:
        return True, "own_card"

    decision = authorize(user, action, RESOURCE, obj=card)
    if not decision.allowed:
        return False, "not_permitted"
    return True, str(decision.reason or "allowed")
