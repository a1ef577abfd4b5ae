"""The customer's data: download it (JSON) and delete the account (confirmed with the
password). Both act on the logged-in customer only; there is no id in their URLs."""

from __future__ import annotations

import json

from django import forms
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from portal.lib.ratelimit import Limiter, minutes
from portal.services import account_data

# wrong passwords on the deletion page, per account: the page must not become a way to guess it
DELETE_ATTEMPTS = Limiter("delete-account", 5, 15 * 60)


class DeleteAccountForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                               label=gettext_lazy("Your password"))
    confirm = forms.BooleanField(label=gettext_lazy("I understand that my login, my error reports and my messages are "
                                                    "deleted, and that my purchases are kept without my email address "
                                                    "for accounting."))


@login_required
@never_cache
@require_GET
def data_download(request):
    body = json.dumps(account_data.export(request.user), indent=2, ensure_ascii=False, sort_keys=True)
    response = HttpResponse(body + "\n", content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="my-data-{timezone.now():%Y-%m-%d}.json"'
    return response


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def delete_account(request):
    ident = f"user:{request.user.pk}"
    form = DeleteAccountForm(request.POST or None)
    status, error = 200, ""
    if request.method == "POST":
        seconds = DELETE_ATTEMPTS.blocked_for(ident)
        if seconds:
            wait = minutes(seconds)
            status, error = 429, ngettext("Too many wrong passwords. Please try again in %(count)s minute.",
                                          "Too many wrong passwords. Please try again in %(count)s minutes.",
                                          wait) % {"count": wait}
        elif form.is_valid() and not request.user.check_password(form.cleaned_data["password"]):
            DELETE_ATTEMPTS.hit(ident)
            form.add_error("password", _("This is not your password: your account was not deleted."))
            status = 400
        elif form.is_valid():
            try:
                account_data.delete(request.user)
            except account_data.DeletionError as exc:
                status, error = 502, str(exc)
            else:
                logout(request)
                return render(request, "portal/accounts/deleted.html")
        else:
            status = 400
    return render(request, "portal/accounts/delete.html",
                  {"form": form, "error": error, "link_days": -(-settings.DOWNLOAD_LINK_MAX_AGE // 86400)}, status=status)
