from django.db import models
from django.utils import timezone

from exporters.schema import CameraType, DirectionMode, Kind


class Source(models.Model):
    """A feed cameras come from (an OpenStreetMap extract, a government list, ...)."""

    name = models.SlugField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_import_at = models.DateTimeField(null=True, blank=True)
    table_mapping = models.JSONField(
        null=True, blank=True,
        help_text="The column mapping the table reader last imported this source with (its re-imports use it)",
    )

    def __str__(self):
        return self.name


class Camera(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    kind = models.PositiveSmallIntegerField(choices=[(k.value, k.name.lower()) for k in Kind], default=Kind.FIXED)
    type = models.PositiveSmallIntegerField(
        choices=[(t.value, t.label) for t in CameraType], default=CameraType.SPEED, db_index=True
    )
    lat = models.FloatField("latitude")
    lon = models.FloatField("longitude")
    speed = models.PositiveSmallIntegerField("speed limit (km/h)", null=True, blank=True)
    truck_speed = models.PositiveSmallIntegerField("truck speed limit (km/h)", null=True, blank=True)
    heading = models.FloatField(
        "heading of enforced traffic (degrees)", null=True, blank=True,
        help_text="Clockwise from north; the direction the checked traffic travels.",
    )
    dir_mode = models.PositiveSmallIntegerField(
        "direction mode", choices=[(d.value, d.name.lower()) for d in DirectionMode], default=DirectionMode.ALL
    )
    country = models.CharField(max_length=2, db_index=True, help_text="ISO 3166-1 alpha-2")
    road = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    end_lat = models.FloatField(null=True, blank=True, help_text="End point of a section or stretch")
    end_lon = models.FloatField(null=True, blank=True)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="cameras", help_text="First source")
    source_ref = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    last_verified = models.DateTimeField(null=True, blank=True)
    reports = models.PositiveIntegerField(default=0, help_text="Mobile points: number of reports")

    class Meta:
        indexes = [models.Index(fields=["status", "country"])]

    def __str__(self):
        return f"#{self.pk} {CameraType(self.type).label} {self.country} ({self.lat:.5f}, {self.lon:.5f})"


class CameraLink(models.Model):
    """One camera as known to one source: the import key is (source, ref).

    A camera merged from two sources has two links; it stays active while any link does.
    """

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="links")
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="links")
    ref = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "ref"], name="unique_source_ref")]


class MobileReport(models.Model):
    """A reported mobile check (position and time); aggregated into mobile zones."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mobile_reports")
    ref = models.CharField(max_length=200)
    lat = models.FloatField()
    lon = models.FloatField()
    country = models.CharField(max_length=2, blank=True)
    reported_at = models.DateTimeField(db_index=True)
    road = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "ref"], name="unique_report_ref")]


class ImportRun(models.Model):
    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="imports")
    path = models.CharField(max_length=500)
    format = models.CharField(max_length=32)
    started_at = models.DateTimeField(default=timezone.now)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    merged = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)


class Release(models.Model):
    """An immutable numbered snapshot of the active cameras."""

    number = models.PositiveIntegerField(unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    camera_count = models.PositiveIntegerField()
    snapshot = models.CharField(max_length=300, help_text="Snapshot file name under RELEASES_DIR")
    sha256 = models.CharField(max_length=64)
    counts = models.JSONField(default=dict, help_text="{'country': {...}, 'type': {...}, 'kind': {...}}")
    changelog = models.JSONField(default=dict)
    history = models.BooleanField(
        default=False, help_text="The database holds this release's rows (CameraVersion): it can be rebuilt from it"
    )

    class Meta:
        ordering = ["-number"]

    def __str__(self):
        return f"Release {self.number}"

    @property
    def country_count(self):
        return len(self.counts.get("country", {}))

    @property
    def counts_by_country_sorted(self):
        return sorted(self.counts.get("country", {}).items(), key=lambda kv: (-kv[1], kv[0]))


class CameraVersion(models.Model):
    """A camera exactly as it was published in the releases ``first_release`` to
    ``last_release`` (None: it is still in the latest release).

    Publishing writes one row per camera that is new or changed since the previous release
    and closes the rows of cameras that changed or left, so the database keeps every
    release: ``cameras.releases.rebuild_snapshot`` reads a release back from these rows and
    writes a snapshot byte-identical to the one published. The columns are the snapshot's,
    with the snapshot's values (unknown speeds 0); a NaN float is stored as NULL.
    """

    camera_id = models.BigIntegerField(help_text="Camera.id (kept when the camera row is gone)")
    first_release = models.PositiveIntegerField()
    last_release = models.PositiveIntegerField(null=True, blank=True)
    kind = models.PositiveSmallIntegerField()
    type = models.PositiveSmallIntegerField()
    lat = models.FloatField()
    lon = models.FloatField()
    speed = models.PositiveSmallIntegerField()
    truck_speed = models.PositiveSmallIntegerField()
    heading = models.FloatField(null=True)
    dir_mode = models.PositiveSmallIntegerField()
    country = models.CharField(max_length=2)
    road = models.CharField(max_length=200)
    description = models.CharField(max_length=500)
    reports = models.PositiveIntegerField()
    end_lat = models.FloatField(null=True)
    end_lon = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["camera_id", "first_release"], name="unique_camera_version")]
        indexes = [models.Index(fields=["last_release", "camera_id"], name="camera_version_open")]

    def __str__(self):
        last = self.last_release if self.last_release is not None else "latest"
        return f"camera {self.camera_id} in releases {self.first_release}-{last}"
