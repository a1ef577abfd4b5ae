"""COMAND's hard POI limit where customers meet it: ``manage.py export`` and the shop's form
refuse a coverage over it, naming the countries to leave out; the withdrawn MIB2 entry still
resolves for old orders but is not sold. The demo release has 600 cameras, so the limit is
lowered for these tests (the real 25,000 is checked on real data in test_comand.py)."""

import json
import uuid
import zipfile
from dataclasses import replace

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from exporters import devices
from exporters.devices import CATALOG, DEVICES, Limit, get_device
from portal.models import Order
from tests.exporters.readers import daimler_gpx_checker as checker

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_comand(monkeypatch):
    """COMAND with a hard limit of 100 POIs (the 600-camera demo release goes over it)."""
    device = replace(CATALOG["mercedes-comand"], max_pois=Limit(100, "test limit", hard=True))
    monkeypatch.setitem(devices.CATALOG, "mercedes-comand", device)
    return device


def test_export_builds_the_default_coverage_for_comand(release, tmp_path):
    out = tmp_path / "comand.zip"
    call_command("export", "--device", "mercedes-comand", "-o", str(out))
    zf = zipfile.ZipFile(out)
    manifest = json.loads(zf.read("manifest.json"))
    assert manifest["coverage"]["codes"] == ["central-europe-no-ch"]
    assert set(manifest["counts"]["by_country"]) <= {"AT", "CH", "CZ", "DE", "HU", "LI", "PL", "SI", "SK"}
    card = checker.check_card({n: zf.read(n) for n in zf.namelist() if n.startswith("PersonalPOI/")})
    assert sum(len(w) for w in card.values()) == manifest["counts"]["pois"] > 0


def test_export_refuses_a_coverage_over_the_hard_limit_and_names_what_to_leave_out(release, tmp_path, small_comand):
    out = tmp_path / "comand.zip"
    with pytest.raises(CommandError) as exc:
        call_command("export", "--device", "mercedes-comand", "--coverage", "europe", "-o", str(out))
    message = str(exc.value)
    assert "over the limit of Mercedes-Benz COMAND" in message and "100 POIs" in message
    assert "ignores every POI" in message and "for example the countries" in message
    assert not out.exists()


def post_checkout(client, device_id, **fields):
    return client.post(reverse("shop-checkout-start", args=[device_id]),
                       {"email": "a@example.com", "checkout": str(uuid.uuid4()), "token": "tok_x", **fields})


def test_the_shop_refuses_a_coverage_over_the_hard_limit_with_the_countries_to_leave_out(client, release,
                                                                                        small_comand):
    r = post_checkout(client, "mercedes-comand", coverage="europe")
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert "coverage" in errors and "for example the countries" in errors["coverage"][0]
    assert Order.objects.count() == 0


def test_the_shop_takes_a_coverage_within_the_hard_limit(client, release, small_comand, monkeypatch):
    from portal.services import payments

    monkeypatch.setattr(payments, "save_card", lambda order, token: "card_x")
    counts = release.counts["country"]
    small = min((c for c in counts if counts[c]), key=lambda c: counts[c])
    assert counts[small] <= 100
    r = post_checkout(client, "mercedes-comand", coverage=small)
    assert r.status_code == 200, r.content
    assert Order.objects.get().coverage == [small]


def test_the_withdrawn_mib2_entry_resolves_for_old_orders_but_is_not_sold(client, release):
    device = get_device("vw-mib")
    assert device.withdrawn and "signature" in device.withdrawn and device.kind == "head-unit"
    assert "vw-mib" not in {d.id for d in DEVICES}
    assert client.get(reverse("shop-device", args=["vw-mib"])).status_code == 404
    assert post_checkout(client, "vw-mib").status_code == 404
    assert "vw-mib" not in client.get(reverse("home-page")).content.decode()
