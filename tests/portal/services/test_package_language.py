"""The language of INSTALL.txt follows the order (``Order.customer_language``): in the order's
export options, and in the fan-out's combinations (one per language its subscribers use)."""

import pytest

from cameras.coverage import Coverage
from portal.services import fanout, packages

from tests.portal.panelkit import customer, paid_order

pytestmark = pytest.mark.django_db


def test_an_orders_options_carry_its_customers_language():
    lea = customer()
    lea.language = ""  # no language chosen on the account: the order's
    lea.save()
    order = paid_order(lea, "tomtom-go-classic", ["FR"], language="fr")
    assert packages.order_spec(order)[2].language == "fr"
    lea.language = "de"
    lea.save()
    order.refresh_from_db()
    assert packages.order_spec(order)[2].language == "de"  # the account's language first
    english = paid_order(customer("tom@example.com"), "tomtom-go-classic", ["FR"])
    assert packages.order_spec(english)[2].language == "en"
    assert "language" not in packages.order_spec(english)[2].key()


def test_the_fanout_builds_one_combination_per_language_used():
    lea, tom = customer(), customer("tom@example.com")
    tom.language = "fr"
    tom.save()
    for _ in range(2):
        paid_order(lea, "garmin-nuvi", ["BE"])
    paid_order(tom, "garmin-nuvi", ["BE"])
    paid_order(lea, "garmin-nuvi", ["BE"], language="fr")  # placed on a French page: the account's language wins
    combos = {dict(c.options).get("language", "en"): c.orders for c in fanout.popular_combinations()}
    assert combos == {"en": 3, "fr": 1}
    en = packages.export_options(Coverage.parse(["BE"]), **packages.DEFAULT_OPTIONS)
    fr = packages.export_options(Coverage.parse(["BE"]), **packages.DEFAULT_OPTIONS, language="fr")
    keys = {c.options: c for c in fanout.popular_combinations()}
    assert set(keys) == {tuple(sorted(en.key().items())), tuple(sorted(fr.key().items()))}
    assert keys[tuple(sorted(fr.key().items()))].spec()[2] == fr  # a task rebuilds the same options
