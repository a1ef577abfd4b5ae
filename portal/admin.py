from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from portal.models import EmailRecord, ErrorReport, Order, StripeEvent, User
from portal.services import fulfilment, payments, reports


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


class EmailRecordInline(admin.TabularInline):
    model = EmailRecord
    extra = 0
    readonly_fields = ("kind", "key", "to", "sent_at", "attempts", "last_error")
    can_delete = False


class ErrorReportInline(admin.TabularInline):
    model = ErrorReport
    extra = 0
    fields = ("created_at", "status", "text", "outcome")
    readonly_fields = ("created_at", "status", "text", "outcome")
    show_change_link = True
    can_delete = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("public_id", "email", "device_id", "status", "amount", "plan", "subscription_status",
                    "created_at", "fulfilled_at")
    list_filter = ("status", "plan", "subscription_status", "device_id", "mobile")
    search_fields = ("email", "public_id", "payment_intent", "subscription_id")
    readonly_fields = ("public_id", "amount", "currency", "stripe_customer", "setup_intent", "payment_intent",
                       "paid_at", "fulfilled_at", "refunded_at", "package_key", "package_bytes", "release",
                       "plan", "subscription_id", "subscription_status", "subscription_end")
    inlines = [ErrorReportInline, EmailRecordInline]
    actions = ["refund_orders"]

    @admin.action(description="Refund through Stripe (revokes the downloads)", permissions=["change"])
    def refund_orders(self, request, queryset):
        for order in queryset:
            try:
                fulfilment.refund(order.pk)
            except (payments.PaymentError, ValueError) as exc:
                self.message_user(request, f"{order.public_id}: not refunded: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"{order.public_id}: refunded ({order.email}).", messages.SUCCESS)


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "received_at", "processed_at")
    list_filter = ("type",)
    search_fields = ("id",)
    readonly_fields = ("id", "type", "payload", "received_at", "processed_at")


@admin.register(ErrorReport)
class ErrorReportAdmin(admin.ModelAdmin):
    """Device error reports. Edit "outcome" to tell the customer something specific (saved
    first), then use an action: each sets the status, keeps the outcome (a default when
    empty) and emails the customer once (portal.reports)."""

    list_display = ("id", "customer", "device", "status", "created_at", "resolved_at", "has_screenshot")
    list_filter = ("status",)
    search_fields = ("order__email", "order__public_id", "text")
    date_hierarchy = "created_at"
    fields = ("order_link", "created_at", "text", "screenshot_preview", "status", "outcome", "resolved_at")
    readonly_fields = ("order_link", "created_at", "text", "screenshot_preview", "status", "resolved_at")
    actions = ["repackage", "refund", "close"]
    list_select_related = ("order",)

    def has_add_permission(self, request):
        return False  # customers file reports, from the panel

    @admin.display(description="customer", ordering="order__email")
    def customer(self, report):
        return report.order.email

    @admin.display(description="device", ordering="order__device_id")
    def device(self, report):
        return report.order.device_id

    @admin.display(description="screenshot", boolean=True)
    def has_screenshot(self, report):
        return bool(report.screenshot_type)

    @admin.display(description="order")
    def order_link(self, report):
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("admin:portal_order_change", args=[report.order_id])
        return format_html('<a href="{}">{}</a> ({}, {})', url, report.order.public_id, report.order.email,
                           report.order.get_status_display())

    @admin.display(description="screenshot")
    def screenshot_preview(self, report):
        import base64

        from django.utils.html import format_html

        if not report.screenshot or report.screenshot_type not in ("image/png", "image/jpeg"):
            return "-"
        data = base64.b64encode(bytes(report.screenshot)).decode("ascii")
        return format_html('<img src="data:{};base64,{}" style="max-width:640px" alt="screenshot">',
                           report.screenshot_type, data)

    def _act(self, request, queryset, action, done):
        for report in queryset:
            try:
                action(report.pk, report.outcome)
            except reports.ReportError as exc:
                self.message_user(request, f"Report {report.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"Report {report.pk}: {done}", messages.SUCCESS)

    @admin.action(description="Repackage: rebuild the file and email it", permissions=["change"])
    def repackage(self, request, queryset):
        self._act(request, queryset, reports.repackage, "the file is being rebuilt; the customer gets it by email.")

    @admin.action(description="Refund the purchase through Stripe (revokes the downloads)", permissions=["change"])
    def refund(self, request, queryset):
        self._act(request, queryset, reports.refund, "refunded; the customer is told by email.")

    @admin.action(description="Close without action (emails the outcome)", permissions=["change"])
    def close(self, request, queryset):
        self._act(request, queryset, reports.close, "closed; the customer is told by email.")
