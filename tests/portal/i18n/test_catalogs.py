"""The eight languages' catalogs are whole: every message translated, none fuzzy, the
placeholders kept, and makemessages finds no marked string missing from them."""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.utils import translation

ROOT = Path(__file__).resolve().parents[3]


def catalogs_module():
    spec = importlib.util.spec_from_file_location("catalogs", ROOT / "bin" / "catalogs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CATALOGS = catalogs_module()


def msgids(po: Path) -> set:
    with po.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


@pytest.mark.parametrize("code", CATALOGS.LANGUAGES)
def test_every_message_is_translated_none_fuzzy_placeholders_kept(code):
    po = ROOT / "locale" / code / "LC_MESSAGES" / "django.po"
    assert po.exists(), f"{po} is missing"
    assert CATALOGS.problems(po) == []


def test_the_catalogs_hold_the_same_messages():
    sets = {code: msgids(ROOT / "locale" / code / "LC_MESSAGES" / "django.po") for code in CATALOGS.LANGUAGES}
    first = sets["fr"]
    assert len(first) > 300
    for code, ids in sets.items():
        assert ids == first, f"{code}: {sorted(ids ^ first)[:10]}"


@pytest.mark.parametrize("code", CATALOGS.LANGUAGES)
def test_the_compiled_catalog_is_the_one_django_uses(code):
    with translation.override(code):
        assert translation.gettext("Log in") != "Log in"
        assert translation.get_language() == code


@pytest.mark.skipif(shutil.which("xgettext") is None and os.environ.get("CI") not in ("1", "true"),
                    reason="GNU gettext (xgettext) is not installed: apt-get install gettext")
def test_makemessages_finds_no_string_missing_from_the_catalogs(tmp_path):
    """Extract the marked strings from a copy of the code and compare with the catalogs."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns(".*", "__pycache__", "*.pyc", "*.mo", "tests", "var", "benchmarks", "docs",
                                    "deploy", "build", "*.egg-info")
    copy.mkdir()
    for name in ("portal", "exporters", "cameras", "locale", "bin"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / "manage.py", copy / "manage.py")
    env = dict(os.environ, PYTHONPATH=str(copy))
    result = subprocess.run([sys.executable, str(copy / "bin" / "catalogs.py"), "update"], cwd=copy, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    for code in CATALOGS.LANGUAGES:
        committed = msgids(ROOT / "locale" / code / "LC_MESSAGES" / "django.po")
        extracted = msgids(copy / "locale" / code / "LC_MESSAGES" / "django.po")
        missing = extracted - committed
        assert not missing, f"{code}: marked in the code but not in the catalog (run bin/catalogs.py update): " \
                            f"{sorted(map(str, missing))[:10]}"
        obsolete = committed - extracted
        assert not obsolete, f"{code}: in the catalog but no longer in the code: {sorted(map(str, obsolete))[:10]}"
