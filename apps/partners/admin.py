from django.contrib import admin

from apps.partners.models import Customer, Partner


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "created_at"]
    search_fields = ["name"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["id", "partner", "reference", "created_at"]
    list_filter = ["partner"]
    search_fields = ["reference"]
    raw_id_fields = ["owner"]
