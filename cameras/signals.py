"""Signals of the camera database.

``release_published(sender=Release, release=<Release>)``
    Sent by ``cameras.releases.publish_release`` once the new release is committed (through
    ``transaction.on_commit``: immediately in autocommit mode, at the outer commit inside an
    ``atomic`` block, never when that block rolls back), with ``send_robust``: a failing
    receiver is logged by Django and cannot turn a published release into an error. The
    portal connects its package fan-out here (``portal.fanout``); ``cameras`` itself does
    not know who listens.
"""

from django.dispatch import Signal

release_published = Signal()
