"""The editors' admin: search and filters, bulk deactivate, the position on each camera."""

import pytest
from django.urls import reverse

from cameras.models import Camera, Source
from exporters.schema import CameraType

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(client, django_user_model):
    user = django_user_model.objects.create_superuser(email="editor@example.com", password="s3cret-pass")
    client.force_login(user)
    return client


@pytest.fixture
def cameras():
    osm = Source.objects.create(name="osm")
    gov = Source.objects.create(name="fr-gov")
    return [
        Camera.objects.create(source=osm, source_ref="n1", lat=48.85, lon=2.35, country="FR", type=CameraType.SPEED, road="A1"),
        Camera.objects.create(source=gov, source_ref="g1", lat=52.52, lon=13.40, country="DE", type=CameraType.RED_LIGHT, road="B96"),
        Camera.objects.create(source=osm, source_ref="n2", lat=45.76, lon=4.83, country="FR", type=CameraType.RED_LIGHT, road="A7"),
    ]


def test_editors_filter_by_country_type_source_and_status(editor, cameras):
    url = reverse("admin:cameras_camera_changelist")
    page = editor.get(url, {"country": "FR", "type__exact": CameraType.RED_LIGHT, "source__id__exact": cameras[2].source_id,
                            "status__exact": "active"})
    assert page.status_code == 200
    shown = [c.id for c in page.context["cl"].result_list]
    assert shown == [cameras[2].id]
    search = editor.get(url, {"q": "B96"})
    assert [c.id for c in search.context["cl"].result_list] == [cameras[1].id]


def test_editors_deactivate_cameras_in_bulk(editor, cameras):
    url = reverse("admin:cameras_camera_changelist")
    response = editor.post(url, {"action": "deactivate", "_selected_action": [cameras[0].id, cameras[2].id]}, follow=True)
    assert response.status_code == 200
    assert "2 cameras deactivated" in response.content.decode()
    assert list(Camera.objects.filter(status="inactive").order_by("id").values_list("id", flat=True)) == [cameras[0].id, cameras[2].id]


def test_each_camera_shows_its_position_on_a_map(editor, cameras):
    page = editor.get(reverse("admin:cameras_camera_change", args=[cameras[0].id]))
    html = page.content.decode()
    assert "48.85000, 2.35000" in html
    assert "openstreetmap.org/export/embed.html" in html and "marker=48.85,2.35" in html
