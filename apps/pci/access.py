"""Who is calling the vault, and what they may do with a card.

The vault asks three questions of other parts of the portal: may this user act on cards in this
scope (access control), has this user passed a second factor in the last five minutes (MFA
step-up), and is this a machine client whose token carries a scope. Each answer comes from its
owner's module; where that module is not part of this code base yet, the vault answers with the
narrowest rule that is safe, as described on each function.
"""

import functools
import importlib
from dataclasses import dataclass

SECOND_FACTOR_WINDOW_SECONDS = 300
RESOURCE = "cards"

# Actions on cards, as they appear in permission strings ("cards:detokenize:partner:42") and
# OAuth scopes ("cards:detokenize").
TOKENIZE = "tokenize"
READ = "read"
DELETE = "delete"
DETOKENIZE = "detokenize"
# The local fallback's Django permission for each action on cards the caller does not own.
_FALLBACK_PERMISSIONS = {
    TOKENIZE: "pci.add_cardtoken",
    READ: "pci.view_cardtoken",
    DELETE: "pci.delete_cardtoken",
    DETOKENIZE: "pci.detokenize_cardtoken",
}


@dataclass(frozen=True)
class Caller:
    """The acting party: a signed-in user, or a machine client acting as its service user.

    A client acts for one partner (``partner``, fixed by its OAuth application) with the scopes
    of its token; ``scopes`` is None for users, whose rights come from their roles.
    """

    user: object
    client_id: str | None = None
    scopes: frozenset[str] | None = None
    partner: object = None
    second_factor_recent: bool = False

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
    """The caller of a page or API request (DRF's request or Django's)."""
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
    return Caller(
        user=request.user,
        second_factor_recent=second_factor_is_recent(getattr(request, "_request", request)),
    )


def second_factor_is_recent(request) -> bool:
    """Whether the session passed a second factor within the last five minutes.

    Without the MFA step-up module nothing can vouch for a second factor, so the answer is no.
    """
    recently_passed_second_factor = _optional(
        "apps.accounts.stepup", "recently_passed_second_factor"
    )
    if recently_passed_second_factor is None:
        return False
    if not hasattr(request, "session"):
        # TODO: a JWT caller has no session; ask the token session once MFA records it there.
        return False
    return bool(
        recently_passed_second_factor(request, within_seconds=SECOND_FACTOR_WINDOW_SECONDS)
    )


def authorized(caller: Caller, action: str, owner) -> tuple[bool, str]:
    """May the caller do ``action`` on a card of ``owner`` (a user or a Partner)? (yes, why)

    1. Nobody anonymous or inactive.
    2. A client needs the action's scope in its token, whatever its service user may do, and
       acts only on the cards of the partner its application belongs to.
    3. A user manages (tokenise, list, delete) their own cards; revealing a number always
       needs an explicit permission, even for its owner.
    4. Everything else is decided by access control for the owner's scope.
    """
    user = caller.user
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False, "not_authenticated"
    if caller.is_client and not caller.has_scope(action):
        return False, "scope_missing"
    if caller.is_client:
        if caller.partner is None or owner != caller.partner:
            return False, "not_permitted"
        return True, "partner_client"
    if action != DETOKENIZE and not caller.is_client and owner == user:
        return True, "own_card"
    return _access_control(user, action, owner)


def _access_control(user, action: str, owner) -> tuple[bool, str]:
    authorize = _optional("apps.rbac.services", "authorize")
    if authorize is not None:
        decision = authorize(user, action, RESOURCE, obj=owner)
        return bool(decision.allowed), str(decision.reason or "")

    # TODO: remove once apps.rbac.services.authorize is in this code base. Until then only a
    # global Django permission (held by compliance staff) grants access to cards of others or
    # to card numbers, since scopes like partner:<id> cannot be checked here.
    if user.has_perm(_FALLBACK_PERMISSIONS[action]):
        return True, "django_permission"
    return False, "not_permitted"


def _optional(module: str, name: str):
    """module.name, or None while that module is not part of this code base."""
    found = _optional_module(module)
    return getattr(found, name, None) if found is not None else None


@functools.cache
def _optional_module(module: str):
    # Looked up once: a failed import is retried from scratch on every call, at a cost larger
    # than the check it would serve.
    try:
        return importlib.import_module(module)
    except ImportError:
        return None
