"""The speed unit and the France mode of a purchase: offered in the shop (the France choice
whenever the coverage includes France, the legal mode by default), stored on the order,
built into its package (names and OV2 file names in mph), switchable in the panel by the
owner only (a switch rebuilds the file), and in the fan-out's combinations."""

import html
import importlib
import io
import json
import re
import uuid
import zipfile

import pytest
from django.urls import reverse

from portal.models import Order
from portal.services import fanout, packages
from tests.exporters.readers.ov2_reader import read_ov2
from tests.portal.panelkit import body, customer, first_release, manifest, paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean(settings, local_cache):
    settings.SITE_URL = "https://shop.example"
    settings.UPDATE_MONTHS = 12


@pytest.fixture
def release(tmp_path):
    return first_release(tmp_path)


@pytest.fixture
def started(monkeypatch):
    """The checkout starts without Stripe (the order is created as the view creates it); each
    post is its own checkout page (``checkout()``)."""
    from portal.services import payments

    monkeypatch.setattr(payments, "save_card", lambda order, token: "card_x")


def checkout() -> str:
    return str(uuid.uuid4())


def package_of(order: Order) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(packages.package_for_order(order).path.read_bytes()))


def ov2_names(zf) -> dict[str, list[str]]:
    return {n: [p.name for p in read_ov2(zf.read(n)).pois] for n in zf.namelist() if n.endswith(".ov2")}


# ---------------------------------------------------------------------------------------
# Shop


def test_the_shop_offers_the_unit_always_and_the_france_choice_for_a_coverage_with_france(client, release):
    page = client.get(reverse("shop-device", args=["tomtom-go-classic"])).content.decode()
    assert 'name="speed_unit"' in page and "mph everywhere" in page
    block = re.search(r'<p id="fr-zone-mode" data-france-codes="([^"]*)"([^>]*)>', page)
    codes = block[1].split(",")
    assert {"europe", "western-europe", "FR"} <= set(codes) and "GB" not in codes and "british-isles" not in codes
    assert "hidden" not in block[2]  # the default coverage, Europe, includes France
    assert 'value="legal" selected' in page or re.search(r'<option value="legal"[^>]*selected', page)
    assert "forbids signalling where speed cameras are, for every driver in France: only danger zones" in page
    checkout = client.get(reverse("shop-checkout", args=["tomtom-go-classic"]),
                          {"coverage": "GB", "speed_unit": "mph"}).content.decode()
    assert "mph everywhere" in checkout and 'name="speed_unit" value="mph"' in checkout
    assert 'data-testid="fr-zone-mode"' not in checkout  # no France in the coverage


def test_a_purchase_in_mph_gives_mph_names_and_ov2_file_names(client, release, started, eager_raising,
                                                              django_capture_on_commit_callbacks):
    r = client.post(reverse("shop-checkout-start", args=["tomtom-go-classic"]),
                    {"email": "ana@example.com", "coverage": "GB", "speed_unit": "mph", "checkout": checkout()})
    assert r.status_code == 200, r.content
    order = Order.objects.get()
    assert (order.speed_unit, order.fr_zone_mode) == ("mph", "legal")
    zf = package_of(order)
    files = ov2_names(zf)
    speed_files = [n for n in files if n.startswith("tomtom/Speed_cameras_")]
    assert speed_files and all(re.fullmatch(r"tomtom/Speed_cameras_\d+mph\.ov2", n) for n in speed_files)
    for name in speed_files:
        speed = re.search(r"_(\d+)mph", name)[1]
        assert all(f"Speed {speed} mph" in poi or f" {speed} mph" in poi for poi in files[name]), name
    assert json.loads(zf.read("manifest.json"))["options"]["speed_unit"] == "mph"


def test_a_new_purchase_with_france_is_in_the_legal_mode_unless_the_customer_chooses_exact(client, release,
                                                                                           started):
    for coverage, mode in (("FR", ""), ("FR", "exact"), ("GB", "")):
        data = {"email": "bo@example.com", "coverage": coverage, "legal_ack": "on", "checkout": checkout()}
        if mode:
            data["fr_zone_mode"] = mode
        assert client.post(reverse("shop-checkout-start", args=["garmin-nuvi"]), data).status_code == 200
    legal, exact, uk = Order.objects.order_by("created_at", "pk")
    assert (legal.fr_zone_mode, exact.fr_zone_mode, uk.fr_zone_mode) == ("legal", "exact", "legal")
    assert packages.order_spec(legal)[2].fr_danger_zones is True
    assert packages.order_spec(exact)[2].fr_danger_zones is False
    # no France in the coverage: the mode changes nothing, so not the package key either
    assert packages.order_spec(uk)[2].fr_danger_zones is False
    legal_zip = package_of(legal)
    names = [n for n in legal_zip.namelist() if n.endswith(".gpi")]
    assert names == ["Danger_zones.gpi"]  # every French camera is a danger zone
    assert "French law" in legal_zip.read("INSTALL.txt").decode()


def test_a_bad_unit_is_refused(client, release, started):
    r = client.post(reverse("shop-checkout-start", args=["igo-primo"]), {"email": "a@example.com",
                                                                          "speed_unit": "knots", "checkout": checkout()})
    assert r.status_code == 400 and "speed_unit" in r.json()["errors"]
    assert Order.objects.count() == 0


def test_orders_placed_before_keep_their_files():
    """The migration gives existing rows the unit 'auto' and France 'exact'; new orders 'legal'."""
    migration = importlib.import_module("portal.migrations.0004_order_speed_unit_fr_zone_mode").Migration
    added = {op.name: op.field.default for op in migration.operations if type(op).__name__ == "AddField"}
    assert added == {"speed_unit": "auto", "fr_zone_mode": "exact"}
    altered = [op for op in migration.operations if type(op).__name__ == "AlterField"]
    assert [(op.name, op.field.default) for op in altered] == [("fr_zone_mode", "legal")]
    assert Order._meta.get_field("fr_zone_mode").default == "legal"
    assert Order._meta.get_field("speed_unit").default == "auto"


# ---------------------------------------------------------------------------------------
# Panel


def built(order, client, capture):
    with capture(execute=True):
        client.get(reverse("panel-order", args=[order.public_id]))
    order.refresh_from_db()
    return order


def download(client, order) -> bytes:
    page = client.get(reverse("panel-order", args=[order.public_id])).content.decode()
    return body(client.get(re.search(r'id="download" href="([^"]+)"', page).group(1)))


def test_switching_the_unit_in_the_panel_rebuilds_the_file(client, release, eager_raising,
                                                          django_capture_on_commit_callbacks):
    lea = customer()
    client.force_login(lea)
    order = built(paid_order(lea, coverage=("GB",), fr_zone_mode="exact"), client, django_capture_on_commit_callbacks)
    first_key = order.package_key
    data = download(client, order)
    assert manifest(data)["options"]["speed_unit"] == "auto"
    assert any(n.endswith("mph.ov2") for n in zipfile.ZipFile(io.BytesIO(data)).namelist())
    page = client.get(reverse("panel-order", args=[order.public_id])).content.decode()
    assert 'name="speed_unit" value="kmh"' in page and 'name="fr_zone_mode"' not in page  # no France: no choice
    response = client.post(reverse("panel-options", args=[order.public_id]), {"speed_unit": "kmh"})
    assert response.status_code == 302  # (not followed: the page would queue the build outside the capture)
    order.refresh_from_db()
    assert (order.speed_unit, order.fr_zone_mode) == ("kmh", "exact")
    order = built(order, client, django_capture_on_commit_callbacks)
    data = download(client, order)  # the page now finds the new file in the store
    order.refresh_from_db()
    assert order.package_key != first_key
    assert manifest(data)["options"]["speed_unit"] == "kmh"
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert not any("mph" in n for n in names) and any(re.search(r"Speed_cameras_\d+\.ov2$", n) for n in names)


def test_the_panel_offers_the_france_mode_when_the_coverage_includes_france(client, release):
    lea = customer()
    client.force_login(lea)
    order = paid_order(lea, coverage=("FR",), fr_zone_mode="exact")
    page = client.get(reverse("panel-order", args=[order.public_id])).content.decode()
    assert 'name="fr_zone_mode" value="legal"' in page and "for every driver in France" in page
    response = client.post(reverse("panel-options", args=[order.public_id]),
                           {"speed_unit": "auto", "fr_zone_mode": "legal"}, follow=True)
    assert "Options saved: your next download is built with them." in response.content.decode()
    order.refresh_from_db()
    assert order.fr_zone_mode == "legal" and packages.order_spec(order)[2].fr_danger_zones is True


def test_another_customer_cannot_change_the_options(client, release):
    lea = customer()
    order = paid_order(lea, coverage=("FR",))
    client.force_login(customer("max@example.com"))
    r = client.post(reverse("panel-options", args=[order.public_id]), {"speed_unit": "mph", "fr_zone_mode": "exact"})
    assert r.status_code == 404
    order.refresh_from_db()
    assert (order.speed_unit, order.fr_zone_mode) == ("auto", "legal")


def test_a_bad_option_is_refused_with_the_choices(client, release):
    lea = customer()
    client.force_login(lea)
    order = paid_order(lea)
    response = client.post(reverse("panel-options", args=[order.public_id]), {"speed_unit": "knots"}, follow=True)
    assert "unknown speed unit 'knots'; choose one of: auto, kmh, mph" in html.unescape(response.content.decode())
    order.refresh_from_db()
    assert order.speed_unit == "auto"


# ---------------------------------------------------------------------------------------
# Fan-out


def test_the_fanout_builds_what_orders_and_new_purchases_get():
    exact = fanout.normalise("tomtom-go-classic", ["FR"], speed_unit="mph", fr_zone_mode="exact")
    legal = fanout.normalise("tomtom-go-classic", ["FR"], speed_unit="mph", fr_zone_mode="legal")
    uk = fanout.normalise("tomtom-go-classic", ["GB"], fr_zone_mode="legal")
    assert dict(exact.options)["speed_unit"] == "mph" and dict(exact.options)["fr_danger_zones"] is False
    assert dict(legal.options)["fr_danger_zones"] is True
    assert dict(uk.options)["fr_danger_zones"] is False
    default = next(c for c in fanout.default_combinations() if c.device_id == "tomtom-go-classic")
    assert dict(default.options)["fr_danger_zones"] is True and dict(default.options)["speed_unit"] == "auto"
