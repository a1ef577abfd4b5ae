"""The customer panel, under /account/ (included from portal/urls.py before the shop's URLs,
so /account/login/ is the rate-limited login of portal.panel_views)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import panel_views as views

urlpatterns = [
    path("account/", views.home, name="panel-home"),
    # "account" is the name LOGIN_REDIRECT_URL and older code use for the same page
    path("account/", views.home, name="account"),
    path("account/login/", views.LoginView.as_view(), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="panel-logout"),
    path("account/password/", views.PasswordChangeView.as_view(), name="panel-password-change"),
    path("account/password/reset/", views.PasswordResetView.as_view(), name="panel-password-reset"),
    path("account/password/reset/sent/",
         auth_views.PasswordResetDoneView.as_view(template_name="portal/panel/password_reset_sent.html"),
         name="panel-password-reset-sent"),
    path("account/password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(),
         name="panel-password-reset-confirm"),
    path("account/add-device/", views.add_device, name="panel-add-device"),
    path("account/devices/<uuid:public_id>/", views.order_detail, name="panel-order"),
    path("account/devices/<uuid:public_id>/status.json", views.order_status, name="panel-status"),
    path("account/devices/<uuid:public_id>/download/<str:token>/", views.download, name="panel-download"),
    path("account/devices/<uuid:public_id>/changes.png", views.changes_map, name="panel-changes-map"),
    path("account/devices/<uuid:public_id>/icons/", views.save_icons, name="panel-icons"),
    path("account/devices/<uuid:public_id>/coverage/", views.coverage, name="panel-coverage"),
    path("account/devices/<uuid:public_id>/coverage/size.json", views.coverage_size, name="panel-coverage-size"),
    path("account/devices/<uuid:public_id>/coverage/fit.json", views.coverage_fit, name="panel-coverage-fit"),
    path("account/devices/<uuid:public_id>/coverage/map.png", views.coverage_map, name="panel-coverage-map"),
]
