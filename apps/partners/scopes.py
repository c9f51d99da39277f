"""Which OAuth2 scopes an application may be granted: a partner's, at most what it was given."""

from oauth2_provider.scopes import SettingsScopes

# The scopes of the partner API; only applications registered for a partner may hold them.
PARTNER_SCOPES = frozenset(
    {"customers:read", "customers:personal", "customers:write", "events:write", "authz:check"}
    # Data-subject requests and consents (apps.gdpr).
    | {"privacy:requests", "privacy:consents"}
)
# The card vault's scopes (apps.pci): tokenise, list, delete and reveal a partner's cards.
PARTNER_SCOPES |= {"cards:tokenize", "cards:read", "cards:delete", "cards:detokenize"}


class PartnerApplicationScopes(SettingsScopes):
    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        every = super().get_available_scopes(application, request, *args, **kwargs)
        link = _partner_link(application)
        if link is None:
            return [scope for scope in every if scope not in PARTNER_SCOPES]
        return [scope for scope in every if scope in link.scope_set]

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        available = set(self.get_available_scopes(application, request, *args, **kwargs))
        defaults = super().get_default_scopes(application, request, *args, **kwargs)
        return [scope for scope in defaults if scope in available]


def _partner_link(application):
    if application is None:
        return None
    from apps.partners.models import PartnerApplication

    return PartnerApplication.objects.filter(application=application).first()
