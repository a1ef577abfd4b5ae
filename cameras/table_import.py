"""The table reader's options in ``import_cameras``: ``--map``, ``--speed-unit``, ``--preview``.

The mapping a source was imported with is stored on the source (``Source.table_mapping``);
its next imports use it unless ``--map`` gives another one. The reader itself
(``cameras.formats.tabular``) is plain Python; this module joins it to the database.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from cameras.formats.mapping import Mapping, load
from cameras.formats.options import Session, session
from cameras.formats.tabular import preview
from cameras.models import Source


def mapping_for(source: str, map_path: str | None) -> Mapping | None:
    """The mapping file's mapping, else the one stored for ``source``, else None (infer)."""
    if map_path:
        return load(Path(map_path))
    stored = Source.objects.filter(name=source).values_list("table_mapping", flat=True).first()
    if stored:
        return Mapping.from_dict(stored, f"the mapping stored for source {source!r}")
    return None


@contextmanager
def table_options(source: str, map_path: str | None, speed_unit: str | None, dry_run: bool):
    """Imports inside read tables with these options; a real import stores the mapping it used."""
    with session(mapping_for(source, map_path), speed_unit) as state:
        yield state
    if state.used is not None and not dry_run:
        Source.objects.filter(name=source).update(table_mapping=state.used.to_dict())


def preview_text(path: str, source: str, map_path: str | None, speed_unit: str | None) -> str:
    """What ``--preview`` prints; reads the file with the table reader and writes nothing."""
    return preview(Path(path), Session(mapping=mapping_for(source, map_path), speed_unit=speed_unit))
