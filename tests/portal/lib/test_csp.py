"""portal.lib.csp: the policy on every response, with Stripe's and the tiles' origins taken
from the settings when the response is made, and scripts allowed only from the site or by
the response's nonce."""

import re

import pytest
from django.urls import reverse

from portal.lib.csp import origin

pytestmark = pytest.mark.django_db


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_origins_of_urls_and_tile_templates():
    assert origin("https://js.stripe.com/v3/") == "https://js.stripe.com"
    assert origin("http://localhost:8420/js.stripe.com/v3/") == "http://localhost:8420"
    assert origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert origin("") == ""


def test_the_policy_follows_the_settings_at_each_response(client, settings):
    settings.STRIPE_JS_URL = "http://127.0.0.1:9999/js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9999"
    settings.MAP_TILES_URL = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    got = policy(client.get(reverse("pages-help")))
    assert got["script-src"] == ["'self'", "http://127.0.0.1:9999"]
    assert got["connect-src"] == ["'self'", "http://127.0.0.1:9999"]
    assert "https://*.tiles.example.org" in got["img-src"] and "data:" in got["img-src"]
    assert got["object-src"] == ["'none'"] and got["frame-ancestors"] == ["'none'"]

    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    settings.STRIPE_API_BASE = "https://api.stripe.com"
    got = policy(client.get(reverse("pages-help")))
    assert got["script-src"] == ["'self'", "https://js.stripe.com"]
    assert got["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert got["connect-src"] == ["'self'", "https://api.stripe.com", "https://js.stripe.com"]


def test_an_inline_script_runs_only_by_the_responses_nonce(client, release):
    response = client.get(reverse("shop-device", args=["garmin-nuvi"]))
    nonces = [n for n in policy(response)["script-src"] if n.startswith("'nonce-")]
    assert len(nonces) == 1 and "'unsafe-inline'" not in policy(response)["script-src"]
    scripts = re.findall(r"<script([^>]*)>", response.content.decode())
    inline = [attrs for attrs in scripts if "src=" not in attrs and "application/json" not in attrs]
    assert inline and all(f'nonce="{nonces[0][7:-1]}"' in attrs for attrs in inline)
    # another response gets another nonce
    again = policy(client.get(reverse("shop-device", args=["garmin-nuvi"])))["script-src"]
    assert nonces[0] not in again
