"""The memory benchmarks (benchmarks/bench_memory.py, benchmarks/bench_export.py --memory)
build a package for every registered format, at a small scale here.

Their 1,000,000-camera runs failed for the plain ``kml`` format with an IndexError (and
bench_memory with a StopIteration): both looked a device of the format up in the catalog,
and since KML devices get ``kmz`` no catalog device reads plain ``kml``. The scale had
nothing to do with it; 300 cameras show it as well.
"""

import importlib.util
import json
from pathlib import Path

import pytest

from exporters.base import load_plugins
from exporters.devices import DEVICES

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
FORMATS = sorted(load_plugins())


def bench(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}_under_test", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_some_registered_format_has_no_catalog_device():
    """What made the benchmarks fail: without such a format the tests below prove nothing new."""
    assert "kml" in FORMATS and not any(d.format == "kml" for d in DEVICES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_bench_memory_builds_a_package_of_every_format(fmt, capsys):
    bench("bench_memory").child(fmt, 300, exact_france=False, in_memory=True)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["n"] == 300 and result["zip_mb"] > 0 and result["peak"] > 0
    device = next((d for d in DEVICES if d.format == fmt), None)
    assert result["device"] == (device.id if device else f"{fmt}-stand-in")


@pytest.mark.parametrize("fmt", ["kml", "kmz", "gpx"])
def test_bench_export_memory_mode_builds_packages_with_and_without_a_catalog_device(fmt, capsys, tmp_path):
    bench("bench_export").memory_child(fmt, 300, "package", spool=True)
    before, peak, size, seconds = capsys.readouterr().out.split()
    assert float(peak) >= float(before) > 0
