"""The help (FAQ), contact and legal pages: terms of sale, privacy policy, legal notice,
refund policy, and the per-country notes on speed-camera warnings with their sources."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from exporters.devices import CATALOG
from portal.lib.ratelimit import client_ip, email_key, minutes
from portal.services import contact, legal_notes, naming


def _common() -> dict:
    """What several pages state: the seller, the update period, the limits."""
    return {
        "seller": {"name": settings.SELLER_NAME, "address": settings.SELLER_ADDRESS, "email": settings.SELLER_EMAIL,
                   "phone": settings.SELLER_PHONE, "registration": settings.SELLER_REGISTRATION,
                   "vat": settings.SELLER_VAT_NUMBER, "host": settings.SELLER_HOST},
        "update_months": settings.UPDATE_MONTHS, "upgrade_days": settings.UPGRADE_DAYS,
        "stale_days": settings.STALE_FILE_DAYS, "report_open": settings.REPORT_MAX_OPEN,
        "reset_hours": settings.PASSWORD_RESET_TIMEOUT // 3600, "site": settings.SITE_URL.rstrip("/"),
        # the longest window a login, reset or contact counter lives
        "counter_hours": -(-max(settings.LOGIN_RATE_WINDOW, settings.LOGIN_LOCK_SECONDS, settings.PASSWORD_RESET_RATE_WINDOW,
                                settings.CONTACT_RATE_WINDOW) // 3600),
        "legal_notes": legal_notes.all_notes(), "link_days": -(-settings.DOWNLOAD_LINK_MAX_AGE // 86400),
    }


@require_GET
def help_page(request):
    comand = CATALOG.get("mercedes-comand")
    common = _common()
    return render(request, "portal/pages/help.html", {
        **common,
        "law_countries": ", ".join(_("%(country)s (%(rule)s)") % {"country": n.name, "rule": n.rule}
                                   for n in common["legal_notes"]), "comand_limit": comand.max_pois.value if comand and comand.max_pois else None,
        "default_region": naming.code_name("europe-no-ch"),
    })


@require_GET
def legal_page(request, page):
    return render(request, f"portal/legal/{page}.html", _common())


class ContactForm(forms.Form):
    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    email = forms.EmailField(max_length=254, label=gettext_lazy("Email"))
    message = forms.CharField(label=gettext_lazy("Message"))
    callback = forms.BooleanField(required=False, label=gettext_lazy("Please call me back"))
    phone = forms.CharField(max_length=32, required=False, label=gettext_lazy("Phone number"))
    preferred_time = forms.CharField(max_length=100, required=False,
                                     label=gettext_lazy("When to call (e.g. weekdays after 6 pm)"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the length from the settings (CONTACT_MAX_CHARS), read when the form is made
        self.fields["message"] = forms.CharField(max_length=settings.CONTACT_MAX_CHARS, label=gettext_lazy("Message"),
                                                 widget=forms.Textarea(attrs={"rows": 6}))

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if phone and not all(c.isdigit() or c in "+-() ./" for c in phone):
            raise forms.ValidationError(_("A phone number holds digits, spaces and + - ( ) . / only, e.g. +33 1 23 45 67 89."))
        return phone

    def clean(self):
        data = super().clean()
        if data.get("callback") and not data.get("phone"):
            self.add_error("phone", _("Give the number to call back, e.g. +33 1 23 45 67 89 (or untick the callback)."))
        return data


@require_http_methods(["GET", "HEAD", "POST"])
def contact_page(request):
    by_email, by_ip = contact.limiters()
    ip = client_ip(request)
    if request.method != "POST":
        initial = {"email": request.user.email} if request.user.is_authenticated else {}
        return render(request, "portal/pages/contact.html", {**_common(), "form": ContactForm(initial=initial)})
    form = ContactForm(request.POST)
    seconds = by_ip.blocked_for(ip)
    if not seconds and form.is_valid():
        key = email_key(form.cleaned_data["email"])
        seconds = by_email.blocked_for(key)
        if not seconds:
            by_ip.hit(ip)
            by_email.hit(key)
            data = form.cleaned_data
            contact.submit(name=data["name"], email=data["email"], message=data["message"], callback=data["callback"],
                           phone=data["phone"], preferred_time=data["preferred_time"], user=request.user)
            messages.success(request, _("Thank you: your message is on its way to us, and a confirmation to "
                                        "%(email)s.") % {"email": data["email"]})
            return redirect("pages-contact")
    context = {**_common(), "form": form, "locked_minutes": minutes(seconds) if seconds else None}
    return render(request, "portal/pages/contact.html", context, status=429 if seconds else 400)
