from django.contrib import admin

from apps.partners.models import Customer, Partner, PartnerApplication
from apps.rbac.admin import RbacAdminMixin


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]


@admin.register(Customer)
class CustomerAdmin(RbacAdminMixin, admin.ModelAdmin):
    # Opened and narrowed by apps.rbac: staff see the customers their roles and grants cover.
    rbac_resource = "customers"
    list_display = ["id", "partner", "reference", "created_at"]
    list_filter = ["partner"]
    search_fields = ["reference"]
    raw_id_fields = ["owner"]


@admin.register(PartnerApplication)
class PartnerApplicationAdmin(admin.ModelAdmin):
    """Which partner an OAuth2 application acts for; its tokens are under "Access tokens"."""

    list_display = ["application", "partner", "scopes"]
    list_filter = ["partner"]
    raw_id_fields = ["application"]
