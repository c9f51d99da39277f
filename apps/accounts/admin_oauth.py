"""The admin page where staff register partner applications (OAuth2 / OpenID Connect clients)."""

from types import SimpleNamespace

from oauth2_provider.admin import ApplicationAdmin
from oauth2_provider.forms import ApplicationForm
from oauth2_provider.models import AbstractApplication

from apps.accounts.oidc import ALLOWED_GRANT_TYPES, application_problems
from apps.rbac.admin_access import RbacAdminMixin


class PartnerApplicationForm(ApplicationForm):
    """The toolkit's form, offering only the grants and algorithm the portal allows."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        grant_field = self.fields.get("authorization_grant_type")
        if grant_field is not None:
            grant_field.choices = list(ALLOWED_GRANT_TYPES.items())
        algorithm_field = self.fields.get("algorithm")
        if algorithm_field is not None:
            algorithm_field.choices = [
                (AbstractApplication.RS256_ALGORITHM, "RS256 (OpenID Connect)"),
                (AbstractApplication.NO_ALGORITHM, "None (no ID tokens)"),
            ]
            algorithm_field.initial = AbstractApplication.RS256_ALGORITHM

    def clean(self):
        cleaned = super().clean()

        # The instance is filled from the form only after clean(), so judge what was entered.
        entered = SimpleNamespace(
            **{
                field: cleaned.get(field, getattr(self.instance, field))
                for field in ("authorization_grant_type", "algorithm", "client_type")
            }
        )
        for field, message in application_problems(entered).items():
            self.add_error(field if field in self.fields else None, message)
        return cleaned


class PartnerApplicationAdmin(RbacAdminMixin, ApplicationAdmin):
    rbac_resource = "oauth-applications"
    form = PartnerApplicationForm
    view_on_site = False  # the toolkit's page for an application is not mounted here
