"""Per-purchase panel actions of issue 6 (portal/panel_extra_views.py), under /account/purchases/."""

from django.urls import path

from . import panel_extra_views as views

urlpatterns = [
    path("account/purchases/<uuid:public_id>/upgrade/", views.upgrade, name="extra-upgrade"),
    path("account/purchases/<uuid:public_id>/cancel-renewal/", views.cancel, name="extra-cancel"),
    path("account/purchases/<uuid:public_id>/new-release-emails/", views.new_release_emails,
         name="extra-new-release-emails"),
    path("account/purchases/<uuid:public_id>/report/", views.report, name="extra-report"),
]
