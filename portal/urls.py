from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("portal.map_urls")),    # home page, device picker and the preview map
    path("", include("portal.panel_urls")),  # customer panel under /account/ (before the shop: its login wins)
    path("", include("portal.panel_extra_urls")),  # panel actions per purchase: upgrade, cancel, reports
    path("", include("portal.shop_urls")),   # device pages, checkout, payment, webhook, downloads
    path("admin/", admin.site.urls),
]
