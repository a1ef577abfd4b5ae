#!/usr/bin/env python3
"""The translation catalogs (locale/<code>/LC_MESSAGES/django.po).

    python bin/catalogs.py compile   # .po -> .mo (./run and ./test do it; .mo files are not committed)
    python bin/catalogs.py update    # extract the marked strings of the code and templates into
                                     # every catalog (Django's makemessages; needs GNU gettext)
    python bin/catalogs.py check     # every entry translated, none fuzzy, placeholders kept

Compiling uses Babel (pure Python), so ./run needs no gettext tools."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from exporters.i18n import LANGUAGES as ALL_LANGUAGES  # noqa: E402 (the codes of settings.LANGUAGES)

LOCALE = ROOT / "locale"
# the catalogs of the languages other than the source (English)
LANGUAGES = tuple(code for code in ALL_LANGUAGES if code != "en")
IGNORE = ("tests", "benchmarks", "var", "deploy", "docs", "build", "locale")


def catalogs():
    return [LOCALE / code / "LC_MESSAGES" / "django.po" for code in LANGUAGES]


def compile_all() -> int:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    failed = 0
    for po in catalogs():
        if not po.exists():
            print(f"missing catalog {po.relative_to(ROOT)}: run `python bin/catalogs.py update`", file=sys.stderr)
            failed += 1
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        tmp = po.with_suffix(".mo.tmp")
        with tmp.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        os.replace(tmp, po.with_suffix(".mo"))
    return 1 if failed else 0


def update() -> int:
    args = [sys.executable, "manage.py", "makemessages", "--no-obsolete", "--add-location=file",
            "-e", "html,txt,py"]
    for code in LANGUAGES:
        args += ["-l", code]
    for name in IGNORE:
        args += ["-i", name]
    status = subprocess.call(args, cwd=ROOT)
    if status == 0:
        for po in catalogs():
            tidy_header(po)
    return status


def tidy_header(po: Path) -> None:
    """makemessages leaves a new catalog's header fuzzy with placeholders: name the
    language and the project, and unflag it."""
    code = po.parent.parent.name
    text = po.read_text(encoding="utf-8")
    head, sep, rest = text.partition('msgid ""\nmsgstr ""\n')
    head = head.replace("#, fuzzy\n", "")
    rest = rest.replace('"Language: \\n"', f'"Language: {code}\\n"', 1)
    rest = rest.replace('"Project-Id-Version: PACKAGE VERSION\\n"', '"Project-Id-Version: speedcam-portal\\n"', 1)
    rest = rest.replace('"Language-Team: LANGUAGE <LL@li.org>\\n"', f'"Language-Team: {code}\\n"', 1)
    po.write_text(head.replace("SOME DESCRIPTIVE TITLE.", f"speedcam-portal, {code} catalog.") + sep + rest,
                  encoding="utf-8")


def problems(po: Path) -> list[str]:
    """Untranslated, fuzzy or placeholder-breaking entries of one catalog."""
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, locale=po.parent.parent.name)
    found = []
    for message in catalog:
        if not message.id:
            continue
        where = f"{po.resolve().relative_to(ROOT)}: {message.id if isinstance(message.id, str) else message.id[0]!r}"
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if message.fuzzy:
            found.append(f"{where} is fuzzy")
        elif not all(strings):
            found.append(f"{where} is not translated")
        else:
            for err in catalog_check(message, catalog):
                found.append(f"{where}: {err}")
    return found


def catalog_check(message, catalog) -> list[str]:
    from babel.messages.checkers import python_format

    try:
        python_format(catalog, message)
    except Exception as exc:  # babel raises TranslationError with the mismatch
        return [str(exc)]
    return []


def check() -> int:
    bad = [p for po in catalogs() for p in (problems(po) if po.exists() else [f"{po} is missing"])]
    for line in bad:
        print(line)
    return 1 if bad else 0


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    sys.path.insert(0, str(ROOT))
    handler = {"compile": compile_all, "update": update, "check": check}.get(command)
    if handler is None:
        print(__doc__)
        sys.exit(2)
    sys.exit(handler())
