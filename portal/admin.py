from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from portal.models import ContactMessage, EmailRecord, ErrorReport, Invoice, Order, StripeEvent, User
from portal.services import contact, fulfilment, invoice_pdf, payments, reports, vat_report
from portal.lib.ratelimit import minutes
from portal.views import accounts


class AdminLoginView(accounts.LoginView):
    """/admin/login/ behind the panel login's locks: the same failure counters and locks per
    account and per client IP (a failure here counts there and the other way round), so a
    locked account is refused even with the right password. Staff only, in the admin's page."""

    template_name = "admin/login.html"
    authentication_form = AdminAuthenticationForm
    redirect_authenticated_user = False

    def get(self, request, *args, **kwargs):
        if request.user.is_active and request.user.is_staff:  # already in: the admin index
            return HttpResponseRedirect(reverse("admin:index"))
        return super().get(request, *args, **kwargs)

    def get_default_redirect_url(self):
        return reverse("admin:index")

    def _locked(self, form, seconds: int):
        response = super()._locked(form, seconds)
        response.context_data["form"].errors[NON_FIELD_ERRORS] = form.error_class(
            [f"Too many failed login attempts. Please try again in {minutes(seconds)} "
             f"minute{'s' if minutes(seconds) != 1 else ''}."], error_class="nonfield")
        return response

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(admin.site.each_context(self.request), title="Log in", subtitle=None,
                       site_header=admin.site.site_header, app_path=self.request.get_full_path(),
                       username=self.request.user.get_username())
        if REDIRECT_FIELD_NAME not in self.request.GET and REDIRECT_FIELD_NAME not in self.request.POST:
            context[REDIRECT_FIELD_NAME] = reverse("admin:index")
        return context


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
                       "plan", "subscription_id", "subscription_status", "subscription_end",
                       "payment_method", "charge_started_at", "charge_attempts", "upgraded_at", "upgrade_amount",
                       "billing_country", "card_country", "ip_country")
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


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    """Invoices and credit notes, read-only (issued by ``services.invoices``, never changed);
    the PDF of each, and the VAT report (CSV) of the selected ones per quarter and country."""

    list_display = ("number", "kind", "reason", "issued_at", "buyer_email", "billing_country", "vat_rate", "net",
                    "vat", "gross", "pdf_link")
    list_filter = ("kind", "reason", "billing_country")
    date_hierarchy = "issued_at"
    search_fields = ("number", "buyer_email", "order__public_id")
    actions = ["vat_report"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [path("<int:object_id>/pdf/", self.admin_site.admin_view(self.pdf), name="portal_invoice_pdf")] + \
            super().get_urls()

    @admin.display(description="PDF")
    def pdf_link(self, invoice):
        return format_html('<a href="{}">{}</a>', reverse("admin:portal_invoice_pdf", args=[invoice.pk]),
                           invoice_pdf.filename(invoice))

    def pdf(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice.objects.select_related("credited"), pk=object_id)
        response = HttpResponse(invoice_pdf.render(invoice), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{invoice_pdf.filename(invoice)}"'
        return response

    @admin.action(description="VAT report (CSV) of the selected invoices, per quarter and country")
    def vat_report(self, request, queryset):
        rows = vat_report.summarise(queryset.values(*vat_report.FIELDS).iterator(chunk_size=2000))
        quarters = sorted({r.quarter for r in rows})
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = quarters[0] if len(quarters) == 1 else f"{quarters[0]}-{quarters[-1]}" if quarters else "empty"
        response["Content-Disposition"] = f'attachment; filename="vat-report-{name}.csv"'
        vat_report.write_csv(rows, response)
        return response


class AnsweredFilter(admin.SimpleListFilter):
    title, parameter_name = "answered", "answered"

    def lookups(self, request, model_admin):
        return (("no", "not yet"), ("yes", "answered"))

    def queryset(self, request, queryset):
        if self.value() in ("no", "yes"):
            return queryset.filter(answered_at__isnull=self.value() == "no")
        return queryset


@admin.register(ContactMessage)
class ContactMessageAdmin(admin.ModelAdmin):
    """Contact messages: staff read them and write the answer, which is emailed once when saved
    (``contact.answer``); after that the answer is read-only."""

    list_display = ("created_at", "name", "email", "callback", "phone", "preferred_time", "answered_at")
    list_filter = (AnsweredFilter, "callback")
    search_fields = ("email", "name", "message")
    date_hierarchy = "created_at"
    fields = ("created_at", "name", "email", "user", "message", "callback", "phone", "preferred_time",
              "confirmation_sent_at", "answer", "answered_by", "answered_at", "answer_sent_at")
    readonly = ("created_at", "name", "email", "user", "message", "callback", "phone", "preferred_time",
                "confirmation_sent_at", "answered_by", "answered_at", "answer_sent_at")

    def get_readonly_fields(self, request, obj=None):
        return self.readonly + (("answer",) if obj is not None and obj.answered_at else ())

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        """Only the answer is editable: it goes through ``contact.answer`` (stored and emailed once)."""
        if "answer" not in form.changed_data or not obj.answer.strip():
            return
        if contact.answer(obj.pk, obj.answer, request.user):
            messages.success(request, f"The answer is on its way to {obj.email}.")
        else:
            messages.error(request, "This message was answered already; the new text was not sent.")
