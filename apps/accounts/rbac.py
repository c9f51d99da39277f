"""How access control reads a profile: the person it describes owns it.

Accounts themselves (the ``users`` admin page) are not declared: an account has no owner or
partner to narrow by, so only an unscoped grant opens that page.
"""

from apps.accounts.models import Profile
from apps.rbac.registry import declare

declare(Profile, resource="profiles", owner="user")
