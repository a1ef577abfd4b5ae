"""The panel states the French law as docs/france.md does: signalling where cameras are is
forbidden (R413-15, décret n° 2012-3), so the legal mode is the danger zones, not an icon."""

import html
import re

import pytest
from django.urls import reverse

from tests.portal.panelkit import customer, first_release, paid_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("local_cache")]


def test_the_icon_section_states_the_law_and_points_to_the_danger_zones(client, tmp_path):
    first_release(tmp_path, cameras=100)
    lea = customer()
    client.force_login(lea)
    order = paid_order(lea, device="tomtom-go-classic", coverage=["FR"])
    page = client.get(reverse("panel-order", args=[order.public_id])).content.decode()
    law = html.unescape(re.sub(r"<[^>]+>", "", re.search(r'<p class="muted" id="icons-law">(.*?)</p>', page,
                                                          re.S).group(1)))
    assert "R413-15" in law and "2012-3" in law and "forbids signalling where speed cameras are" in law
    assert "danger-zone mode" in law and "still ships exact positions" in law
    assert "forbids showing the speed-limit sign" not in page
    assert 'name="fr_zone_mode" value="legal"' in page
