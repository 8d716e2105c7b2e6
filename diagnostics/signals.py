"""Events other apps may listen to without diagnostics knowing who listens.

The notices app (mail and webhooks) connects to these; diagnostics never
imports it. Each is sent after the transaction that stored the event commits.
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

log = logging.getLogger(__name__)

# sender: StateChange; kwargs: change (the stored StateChange).
state_changed = Signal()
# sender: Target; kwargs: target, surge (diagnostics.crowd.Surge), at (datetime).
crowd_surge = Signal()


def announce(signal: Signal, sender: Any, **kwargs: Any) -> None:
    """Send to every listener; one that fails is logged and does not stop the others.

    The event is stored already: a listener's failure (a broker hiccup while
    queueing mail) must not fail the sampling round or the visitor's request.
    """
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            log.error("listener %r failed", receiver, exc_info=result)
