"""Release fan-out: the package builds of a 200,000-camera release on one worker against two.

    .venv/bin/python benchmarks/bench_fanout.py [--cameras 200000] [--runs 3]
        [--devices 12] [--coverages FR,dach]

Needs Redis on 127.0.0.1:6379 (DB 13 is used and flushed).

1. A throwaway SQLite database with N generated cameras over Europe (the CSV of
   bench_coverage.py, cached in benchmarks/out), published as a release.
2. Paid orders for ``--devices`` catalog devices (one per format first, Sygic left out: it
   takes one coverage only) x the ``--coverages`` (12 x 2 = 24 combinations), each with its
   own number of orders, so the ranking of ``portal.fanout.popular_combinations`` (top =
   all of them, no catalog defaults) is the plan.
3. Real ``celery -A portal worker --pool=solo`` processes on Redis (concurrency 1 each),
   started and warmed (one small build each) before the clock starts. Per run the package
   store is emptied, then ``fanout.schedule`` queues the chord and the clock stops when its
   body has run (every package built). ONE worker against TWO workers, alternating (the
   second worker is started and warmed before its run and stopped after, untimed), median
   of ``--runs`` each; ratio = one / two (2.0 would be perfect scaling).
4. A second fan-out of the unchanged release with the store full (every combination a
   store hit), with two workers, median of ``--runs``.

The load average is printed before and after: on a 2-core machine anything else running
takes its share from the second worker first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import europe_csv  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/13"


class Worker:
    """One ``celery worker --pool=solo`` process (concurrency 1), also consuming a queue of its
    own (``warm-<name>``) for its warm-up build."""

    def __init__(self, name: str, env: dict, tmp: Path):
        self.name, self.env, self.log = name, env, tmp / f"worker-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> None:
        offset = self.log.stat().st_size if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=solo", "--concurrency=1",
                 "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel=INFO",
                 f"--hostname={self.name}@bench", "-Q", f"celery,warm-{self.name}"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                break
            with open(self.log, "rb") as f:
                f.seek(offset)
                if b" ready." in f.read():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"worker {self.name} did not start; see {self.log}")

    def warm(self, release) -> None:
        """One small build in this very worker: imports, plugin discovery, first snapshot read."""
        from portal.services.tasks import build_combination

        result = build_combination.apply_async(("generic-csv", ["LU"], {}, release.number), queue=f"warm-{self.name}")
        assert result.get(timeout=120)["status"] in ("built", "stored")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        self.process = None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cameras", type=int, default=200_000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--devices", type=int, default=12)
    p.add_argument("--coverages", default="FR,dach", help="comma-separated; each one is a coverage")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="speedcam-fanout-bench-"))
    env = dict(os.environ, VAR_DIR=str(tmp), DJANGO_SETTINGS_MODULE="portal.settings", REDIS_URL=REDIS_URL,
               PACKAGES_DIR=str(tmp / "packages"), LOG_LEVEL="WARNING", CELERY_TASK_ALWAYS_EAGER="0",
               PYTHONUNBUFFERED="1")
    for name in ("DATABASE_URL", "SQLITE_PATH"):
        env.pop(name, None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import redis
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    settings.FANOUT_ON_PUBLISH = False  # the benchmark schedules its own fan-outs
    redis.Redis.from_url(REDIS_URL).flushdb()
    call_command("migrate", verbosity=0)

    from cameras.importing import import_file
    from cameras.releases import publish_release
    from exporters.devices import DEVICES
    from portal.services import fanout
    from portal.models import Order

    print(f"importing and publishing {args.cameras:,} cameras ...", flush=True)
    import_file(europe_csv(args.cameras), source="bench", fmt="csv")
    release = publish_release()
    print(f"release {release.number}: {release.camera_count:,} cameras")

    # One device per format first, then the others (Sygic takes its default coverage only).
    candidates = [d for d in DEVICES if d.coverage_setup]
    first_of_format = list({d.format: d for d in reversed(candidates)}.values())[::-1]
    devices = (first_of_format + [d for d in candidates if d not in first_of_format])[:args.devices]
    coverages = [c.strip() for c in args.coverages.split(",") if c.strip()]
    now, n = timezone.now(), 0
    orders = []
    for i, device in enumerate(devices):
        for j, code in enumerate(coverages):
            n += 1
            orders += [Order(email=f"bench{n}-{k}@example.com", device_id=device.id, coverage=[code], amount=1990,
                             status=Order.Status.PAID, paid_at=now, created_at=now)
                       for k in range(1 + i * len(coverages) + j)]
    Order.objects.bulk_create(orders)
    combos = fanout.plan(top=len(devices) * len(coverages), defaults=False)
    print(f"{len(combos)} combinations: {len(devices)} devices ({', '.join(d.id for d in devices)}) "
          f"x coverages {', '.join(coverages)}; {len(orders):,} orders")

    store = Path(settings.PACKAGES_DIR)

    def fan_out(empty: bool) -> tuple[float, dict, list]:
        if empty:
            shutil.rmtree(store, ignore_errors=True)
        started = time.perf_counter()
        scheduled = fanout.schedule(release, combos)
        summary = scheduled.result.get(timeout=3600)
        elapsed = time.perf_counter() - started
        results = scheduled.group_result.get(timeout=60)
        return elapsed, summary, results

    workers = [Worker("w1", env, tmp), Worker("w2", env, tmp)]
    one, two, warm, build_seconds = [], [], [], []
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} CPUs)", flush=True)
    try:
        workers[0].start()
        workers[0].warm(release)
        for run in range(1, args.runs + 1):
            elapsed, summary, results = fan_out(empty=True)
            assert summary["built"] == len(combos) and not summary["failed"], summary
            one.append(elapsed)
            build_seconds.append(sum(r["seconds"] for r in results))
            print(f"run {run}: one worker  {elapsed:7.2f} s  (sum of the builds {build_seconds[-1]:.2f} s)", flush=True)

            workers[1].start()
            workers[1].warm(release)
            elapsed, summary, results = fan_out(empty=True)
            assert summary["built"] == len(combos) and not summary["failed"], summary
            two.append(elapsed)
            print(f"run {run}: two workers {elapsed:7.2f} s  (sum of the builds "
                  f"{sum(r['seconds'] for r in results):.2f} s)", flush=True)
            if run == args.runs:
                for _ in range(args.runs):
                    elapsed, summary, _results = fan_out(empty=False)
                    assert summary == {"built": 0, "stored": len(combos), "failed": 0, "emails": 0}, summary
                    warm.append(elapsed)
            workers[1].stop()
    finally:
        for worker in workers:
            worker.stop()
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    med_one, med_two, med_warm = statistics.median(one), statistics.median(two), statistics.median(warm)
    print(f"\nFan-out of {len(combos)} combinations, {release.camera_count:,}-camera release, "
          f"median of {args.runs} runs, store emptied before each:")
    print(f"  one worker  (1 process, concurrency 1): {med_one:7.2f} s   runs: {', '.join(f'{t:.2f}' for t in one)}")
    print(f"  two workers (2 processes, concurrency 1 each): {med_two:7.2f} s   runs: "
          f"{', '.join(f'{t:.2f}' for t in two)}")
    print(f"  ratio one / two: {med_one / med_two:.2f}x   (serial build time, median: "
          f"{statistics.median(build_seconds):.2f} s, {statistics.median(build_seconds) / len(combos):.2f} s per package)")
    print(f"  ratio run by run (one and two back to back): {', '.join(f'{a / b:.2f}x' for a, b in zip(one, two))}")
    print(f"  second fan-out of the unchanged release (every package in the store), two workers: "
          f"{med_warm:.3f} s   runs: {', '.join(f'{t:.3f}' for t in warm)}")
    print(f"\nlogs: {tmp}")


if __name__ == "__main__":
    main()
