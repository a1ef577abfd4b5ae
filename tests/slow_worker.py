"""A Celery worker whose package builds are slow and observable -- for fault tests only.

    python -m tests.slow_worker worker --pool=solo ...   (the arguments of ``celery -A portal``)

It wraps ``portal.packages.package_for_order`` (what ``tasks.build_order_package`` calls) in
this process only, so that a test can act in the middle of a build without any hook in the
production code: before building, it appends a line to ``$SLOW_BUILD_DIR/started-<order
id>-<pid>`` and sleeps ``SLOW_BUILD_SECONDS`` (default 30); after building, a line to
``$SLOW_BUILD_DIR/finished-<order id>-<pid>`` (one line per attempt: a retried build has
two). Then it runs Celery's own command line.

With ``SLOW_BUILD_GATE=1`` the sleep ends as soon as the test creates
``$SLOW_BUILD_DIR/go-<order id>`` (``SLOW_BUILD_SECONDS`` is then only the longest wait):
a test that must act while the build waits (drop its database connection, ...) opens the
gate when it is done, instead of racing a fixed sleep. Later attempts find it open.
``CeleryWorker.start(module="tests.slow_worker", SLOW_BUILD_DIR=..., ...)`` starts it
(tests/services.py).
"""

import os
import sys
import time
from pathlib import Path


def install() -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from portal.services import packages

    original = packages.package_for_order
    markers = Path(os.environ["SLOW_BUILD_DIR"])
    seconds = float(os.environ.get("SLOW_BUILD_SECONDS") or 30)
    gated = os.environ.get("SLOW_BUILD_GATE", "") == "1"

    def mark(name: str, order) -> None:
        with open(markers / f"{name}-{order.pk}-{os.getpid()}", "a") as fh:
            fh.write(f"{time.time()}\n")

    def slow_package_for_order(order):
        mark("started", order)
        if gated:
            deadline = time.monotonic() + seconds
            while not (markers / f"go-{order.pk}").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        else:
            time.sleep(seconds)
        stored = original(order)
        mark("finished", order)
        return stored

    packages.package_for_order = slow_package_for_order


def main() -> None:
    install()
    from celery.bin.celery import main as celery_main

    sys.argv = ["celery", "-A", "portal", *sys.argv[1:]]
    sys.exit(celery_main())


if __name__ == "__main__":
    main()
