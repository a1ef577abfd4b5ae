from django.contrib import admin, messages
from django.utils.html import format_html

from .models import Camera, CameraLink, ImportRun, MobileReport, Release, Source


class LinkInline(admin.TabularInline):
    model = CameraLink
    extra = 0
    fields = ("source", "ref", "active", "last_seen")
    readonly_fields = fields
    can_delete = False


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ("id", "type", "kind", "country", "speed", "road", "status", "source", "position", "last_seen")
    list_filter = ("status", "kind", "type", "country", "source")
    search_fields = ("=id", "road", "description", "source_ref", "links__ref")
    list_select_related = ("source",)
    readonly_fields = ("position_map", "first_seen", "last_seen")
    inlines = [LinkInline]
    actions = ["deactivate", "activate"]
    list_per_page = 100
    show_full_result_count = False

    @admin.display(description="position")
    def position(self, obj):
        return format_html(
            '<a href="https://www.openstreetmap.org/?mlat={0}&amp;mlon={1}#map=17/{0}/{1}" target="_blank" '
            'rel="noopener">{2}, {3}</a>', obj.lat, obj.lon, f"{obj.lat:.5f}", f"{obj.lon:.5f}")

    @admin.display(description="position on the map")
    def position_map(self, obj):
        if obj.pk is None:
            return "-"
        bbox = f"{obj.lon - 0.004},{obj.lat - 0.0025},{obj.lon + 0.004},{obj.lat + 0.0025}"
        return format_html(
            '{} <br><iframe width="480" height="300" loading="lazy" title="camera position" '
            'src="https://www.openstreetmap.org/export/embed.html?bbox={}&amp;layer=mapnik&amp;marker={},{}"></iframe>',
            self.position(obj), bbox, obj.lat, obj.lon)

    @admin.action(description="Deactivate selected cameras")
    def deactivate(self, request, queryset):
        n = queryset.filter(status=Camera.Status.ACTIVE).update(status=Camera.Status.INACTIVE)
        self.message_user(request, f"{n} cameras deactivated.", messages.SUCCESS)

    @admin.action(description="Activate selected cameras")
    def activate(self, request, queryset):
        n = queryset.filter(status=Camera.Status.INACTIVE).update(status=Camera.Status.ACTIVE)
        self.message_user(request, f"{n} cameras activated.", messages.SUCCESS)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at", "last_import_at")
    search_fields = ("name",)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "source", "format", "path", "created", "updated", "merged", "deactivated", "rejected")
    list_filter = ("source", "format")
    readonly_fields = [f.name for f in ImportRun._meta.fields]


@admin.register(MobileReport)
class MobileReportAdmin(admin.ModelAdmin):
    list_display = ("reported_at", "country", "lat", "lon", "road", "source")
    list_filter = ("country", "source")
    date_hierarchy = "reported_at"


@admin.register(Release)
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ("number", "created_at", "camera_count", "sha256")
    readonly_fields = [f.name for f in Release._meta.fields]

    def has_delete_permission(self, request, obj=None):
        return False  # releases are immutable
