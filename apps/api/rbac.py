"""How access control reads a token session: the person who signed in owns it."""

from apps.api.models import TokenSession
from apps.rbac.registry import declare

declare(TokenSession, resource="token-sessions", owner="user")
