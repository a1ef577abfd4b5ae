"""Shared helpers for the customer panel tests: customers, paid orders, releases that change."""

import io
import json
import zipfile
from datetime import timedelta

from django.utils import timezone

from cameras.models import Camera
from cameras.releases import publish_release
from portal.models import Order, User
from portal.services.pricing import BASE_PRICES
from tests.releases import demo_release

PASSWORD = "correct-horse-battery-9"


def customer(email="lea@example.com", password=PASSWORD) -> User:
    return User.objects.create_user(email, password)


def paid_order(user, device="tomtom-go-classic", coverage=("FR",), paid_at=None, **kw) -> Order:
    paid_at = paid_at or timezone.now()
    fields = dict(email=user.email, user=user, device_id=device, coverage=list(coverage), amount=BASE_PRICES["pnd"],
                  status=Order.Status.PAID, paid_at=paid_at, fulfilled_at=paid_at, created_at=paid_at)
    fields.update(kw)
    return Order.objects.create(**fields)


def first_release(tmp_path, cameras=500, seed=3):
    return demo_release(tmp_path, cameras, seed)


def change_cameras(plan: dict[str, dict[str, int]]) -> dict[str, list[int]]:
    """Apply {country: {"added": n, "removed": n, "moved": n}} to the active cameras; returns
    the ids touched per kind (added ids are new)."""
    touched = {"added": [], "removed": [], "moved": []}
    for country, kinds in plan.items():
        cams = list(Camera.objects.filter(country=country, status=Camera.Status.ACTIVE).order_by("pk"))
        need = kinds.get("removed", 0) + kinds.get("moved", 0) + 1
        assert len(cams) >= need, f"the demo release has only {len(cams)} cameras in {country}"
        for cam in cams[:kinds.get("removed", 0)]:
            cam.status = Camera.Status.INACTIVE
            cam.save(update_fields=["status"])
            touched["removed"].append(cam.pk)
        for cam in cams[kinds.get("removed", 0):kinds.get("removed", 0) + kinds.get("moved", 0)]:
            cam.lat += 0.01   # about 1.1 km north
            cam.save(update_fields=["lat"])
            touched["moved"].append(cam.pk)
        template = cams[-1]
        for i in range(kinds.get("added", 0)):
            template.pk = None
            template.lon += 0.002 * (i + 1)
            template.save()
            touched["added"].append(template.pk)
    return touched


def next_release(plan):
    touched = change_cameras(plan)
    return publish_release(), touched


def manifest(data: bytes) -> dict:
    return json.loads(zipfile.ZipFile(io.BytesIO(data)).read("manifest.json"))


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def months_later(moment, months):
    return moment + timedelta(days=31 * months)
