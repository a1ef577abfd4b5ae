from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Shop and customer panel"

    def ready(self):
        # The admin site does not autodiscover (see INSTALLED_APPS): register the admins here.
        import django.contrib.auth.admin  # noqa: F401  (groups)

        import cameras.admin  # noqa: F401
        import portal.admin  # noqa: F401

        # Issue 7: publishing a release fans the package builds out to the workers.
        from cameras.signals import release_published

        release_published.connect(_fan_out_release, dispatch_uid="portal.fanout")


def _fan_out_release(sender, release, **kwargs):
    """Imported on use: portal.fanout pulls in the exporters and stripe, which every
    manage.py command would otherwise pay for at start-up (about 0.7 s)."""
    from portal.services.fanout import on_release_published

    on_release_published(sender, release=release, **kwargs)
