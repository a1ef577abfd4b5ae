"""Login (rate-limited), logout, password change and password reset."""

from __future__ import annotations

import unicodedata

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _, ngettext

from portal.lib.ratelimit import (Limiter, client_ip, email_key, login_limiters, minutes, reset_limiters,
                                  reset_token_limiter)
from portal.models import User


def _normal_email(value: str) -> str:
    """The address as the login form reads it (NFKC, like Django's UsernameField), trimmed
    and lower-cased: "ＬＥＡ@example.com " and "lea@example.com" are one address."""
    value = value or ""
    if len(value) <= 254:  # longer is refused by the form anyway (and NFKC on it is wasted)
        value = unicodedata.normalize("NFKC", value)
    return value.strip().lower()


def _login_key(value: str) -> str:
    """The failure counter of a login name: the account it reaches (the same lookup as the
    authentication backend, case-insensitive), so no spelling of an address gets a
    counter of its own; an address without an account counts by the database's normal form
    of it (``email_key``), so its spellings share a counter exactly as an account's do."""
    email = _normal_email(value)
    if not email or "\x00" in email or len(email) > 254:  # no account has such a name (nor may a query carry it)
        return email
    user_id = User.objects.filter(email__iexact=unicodedata.normalize("NFKC", value).strip()
                                  ).values_list("pk", flat=True).first()
    return f"user:{user_id}" if user_id is not None else email_key(value)


def login_locks() -> tuple[Limiter, Limiter]:
    """The locks of an account and of a client IP: set (for LOGIN_LOCK_SECONDS from that
    moment) when its failures reach the limit, so "try again in N minutes" and "paused for
    N minutes" name the same duration."""
    lock = settings.LOGIN_LOCK_SECONDS
    return Limiter("login-lock-email", 1, lock), Limiter("login-lock-ip", 1, lock)


def unlock_account(user_id: int) -> None:
    """Forget the failures and the lock of an account (a login, a new password)."""
    by_email, _by_ip = login_limiters()
    lock_email, _lock_ip = login_locks()
    for limiter in (by_email, lock_email):
        limiter.reset(f"user:{user_id}")


class LoginView(auth_views.LoginView):
    """Django's login with a lock per account (its email) and a much higher one per client
    IP: past LOGIN_FAILURES_PER_EMAIL failures the account, past LOGIN_FAILURES_PER_IP the
    IP, refuses every attempt (even with the right password) for LOGIN_LOCK_SECONDS. Other
    accounts tried from the same IP are not affected by one account's lock."""

    template_name = "portal/accounts/login.html"

    def _blocked_for(self, request) -> int:
        lock_email, lock_ip = login_locks()
        email = _login_key(request.POST.get("username"))
        return max(lock_email.blocked_for(email) if email else 0, lock_ip.blocked_for(client_ip(request)))

    def _locked(self, form, seconds: int):
        form.errors.clear()
        context = self.get_context_data(form=form, locked_minutes=minutes(seconds))
        return self.render_to_response(context, status=429)

    def post(self, request, *args, **kwargs):
        seconds = self._blocked_for(request)
        if seconds:
            form = self.get_form_class()(request, data=None)
            return self._locked(form, seconds)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        by_email, by_ip = login_limiters()
        lock_email, lock_ip = login_locks()
        email, ip = _login_key(self.request.POST.get("username")), client_ip(self.request)
        for counter, lock, ident in ((by_email, lock_email, email), (by_ip, lock_ip, ip)):
            if ident and counter.hit(ident) >= counter.limit:
                lock.hit(ident)        # locked from now for LOGIN_LOCK_SECONDS
                counter.reset(ident)   # after the lock, a fresh count
        seconds = self._blocked_for(self.request)
        if seconds:
            return self._locked(form, seconds)
        left = min(by_email.remaining(email) if email else by_email.limit, by_ip.remaining(ip))
        context = self.get_context_data(form=form, attempts_left=left if left <= 2 else None)
        return self.render_to_response(context)

    def form_valid(self, form):
        unlock_account(form.get_user().pk)
        return super().form_valid(form)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("lock_minutes", minutes(settings.LOGIN_LOCK_SECONDS))
        context["lock_duration"] = ngettext("%(count)s minute", "%(count)s minutes",
                                            context["lock_minutes"]) % {"count": context["lock_minutes"]}
        context["email"] = _normal_email(self.request.POST.get("username", self.request.GET.get("email", "")))
        return context


class AnyPasswordResetForm(PasswordResetForm):
    """Django's form, which also reaches accounts whose first password email has not gone
    out yet (their password is still unusable) so nobody is locked out of a purchase."""

    def get_users(self, email):
        # NFKC first, as the login form does, so the limiter's key (email_key) and the lookup agree
        return User.objects.filter(email__iexact=unicodedata.normalize("NFKC", email).strip(), is_active=True)

    def send_mail(self, *args, **kwargs):
        """In the account's language (its emails' language), whatever the page's."""
        context = kwargs.get("context", args[2] if len(args) > 2 else {})
        language = getattr(context.get("user"), "language", "") or translation.get_language()
        with translation.override(language):
            return super().send_mail(*args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    """The same answer whether the address has an account or not (no enumeration). Limits:
    per address (further requests send nothing, silently, so nobody's inbox can be
    flooded) and per client IP (then a 'too many requests' answer, the same for any
    address)."""

    template_name = "portal/accounts/password_reset.html"
    form_class = AnyPasswordResetForm
    email_template_name = "portal/accounts/password_reset_email.txt"
    html_email_template_name = "portal/accounts/password_reset_email.html"
    subject_template_name = "portal/accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts-password-reset-sent")

    def post(self, request, *args, **kwargs):
        _by_email, by_ip = reset_limiters()
        seconds = by_ip.blocked_for(client_ip(request))
        if seconds:
            return self.render_to_response(self.get_context_data(locked_minutes=minutes(seconds)), status=429)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        by_email, by_ip = reset_limiters()
        by_ip.hit(client_ip(self.request))
        email = email_key(form.cleaned_data["email"])  # as the database compares it: one counter for all spellings
        if by_email.hit(email) > by_email.limit:
            return HttpResponseRedirect(self.get_success_url())  # the same answer; no email
        self.extra_email_context = {"site": settings.SITE_URL.rstrip("/"),
                                    "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's reset link check, with a limit on invalid links per client IP (someone
    guessing tokens): past it every link, even a valid one, answers 429 for the window."""

    template_name = "portal/accounts/password_reset_confirm.html"
    post_reset_login = True
    success_url = reverse_lazy("panel-home")

    def dispatch(self, request, *args, **kwargs):
        limiter, ip = reset_token_limiter(), client_ip(request)
        seconds = limiter.blocked_for(ip)
        if seconds:
            return render(request, "portal/accounts/password_reset.html",
                          {"form": AnyPasswordResetForm(), "locked_minutes": minutes(seconds)}, status=429)
        response = super().dispatch(request, *args, **kwargs)
        if not self.validlink:
            limiter.hit(ip)
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        unlock_account(form.user.pk)  # a new password lifts a login lock on the account
        messages.success(self.request, _("Your new password is set, and you are logged in."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/accounts/password_change.html"
    success_url = reverse_lazy("panel-home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password was changed."))
        return response
