from django.contrib import admin

from apps.partners.models import Customer, Partner, PartnerApplication
from apps.rbac.admin_access import RbacAdminMixin


@admin.register(Partner)
class PartnerAdmin(RbacAdminMixin, admin.ModelAdmin):
    # A partner is its own scope: an officer bound to partner:42 sees partner 42 only.
    rbac_resource = "partners"
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]


@admin.register(Customer)
class CustomerAdmin(RbacAdminMixin, admin.ModelAdmin):
    # Opened and narrowed by apps.rbac: staff see the customers their roles and grants cover.
    rbac_resource = "customers"
    list_display = ["id", "partner", "reference", "created_at"]
    # Only the partners of rows the person may list: the plain filter names every partner.
    list_filter = [("partner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["reference"]
    search_help_text = "The partner's reference, or an exact email address (any letter case)."
    raw_id_fields = ["owner"]

    def get_search_results(self, request, queryset, search_term):
        # The email is ciphertext: the database can only compare its blind index, exactly.
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            found |= queryset.filter(email_index__matches=search_term.strip())
        return found, may_have_duplicates


@admin.register(PartnerApplication)
class PartnerApplicationAdmin(RbacAdminMixin, admin.ModelAdmin):
    """Which partner an OAuth2 application acts for; its tokens are under "Access tokens"."""

    rbac_resource = "partner-applications"

    list_display = ["application", "partner", "scopes"]
    list_filter = [("partner", admin.RelatedOnlyFieldListFilter)]  # as on the customer list
    raw_id_fields = ["application"]
