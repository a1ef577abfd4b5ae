"""The checkout's billing country: the customer's country for EU VAT (``services.vat``).

A select of every country by name, defaulting to the country of the buyer's IP address
(``services.geo``), else ``DEFAULT_BILLING_COUNTRY``. A value that is not in the list is
refused (400, with what to do); a request without the field (a client that is not the
checkout page) gets that same default, as the page would have posted it. The order keeps
the billing country with the IP country as evidence."""

from __future__ import annotations

import functools

from django import forms
from django.conf import settings

from cameras import regions
from portal.services import geo


@functools.lru_cache(maxsize=1)
def country_choices() -> tuple[tuple[str, str], ...]:
    names = regions.country_names()
    return tuple(sorted(names.items(), key=lambda item: item[1]))


VAT_NOTE = ("Prices include VAT at the rate of your country in the EU (the price stays the same, your invoice "
            "shows the VAT); outside the EU no VAT is charged.")


class BillingForm(forms.Form):
    billing_country = forms.ChoiceField(
        label="Billing country (where you live)", choices=country_choices, required=False,
        # the longest names ("South Georgia and the South Sandwich Islands") are wider than a phone
        widget=forms.Select(attrs={"style": "max-width:100%"}),
        error_messages={"invalid_choice": "%(value)s is not a country in the list: choose your billing country "
                                          "in the list."})

    def __init__(self, request, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.ip_country = geo.request_country(request)
        known = dict(country_choices())
        self.default = self.ip_country if self.ip_country in known else settings.DEFAULT_BILLING_COUNTRY
        self.fields["billing_country"].initial = self.default

    def clean_billing_country(self) -> str:
        return self.cleaned_data.get("billing_country") or self.default
