from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Shop and customer panel"

    def ready(self):
        # The admin site does not autodiscover (see INSTALLED_APPS): register the admins here.
        import django.contrib.auth.admin  # noqa: F401  (groups)

        import cameras.admin  # noqa: F401
        import portal.admin  # noqa: F401
