from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ("email",)
    list_display = ("email", "is_staff", "is_active", "date_joined")
    search_fields = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


from .models import EmailRecord, Order, StripeEvent  # noqa: E402


class EmailRecordInline(admin.TabularInline):
    model = EmailRecord
    extra = 0
    readonly_fields = ("kind", "to", "sent_at", "attempts", "last_error")
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("public_id", "email", "device_id", "status", "amount", "created_at", "fulfilled_at")
    list_filter = ("status", "device_id", "mobile")
    search_fields = ("email", "public_id", "payment_intent")
    readonly_fields = ("public_id", "amount", "currency", "stripe_customer", "setup_intent", "payment_intent",
                       "paid_at", "fulfilled_at", "refunded_at", "package_key", "package_bytes", "release")
    inlines = [EmailRecordInline]


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "received_at", "processed_at")
    list_filter = ("type",)
    search_fields = ("id",)
    readonly_fields = ("id", "type", "payload", "received_at", "processed_at")
