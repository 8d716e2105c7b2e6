"""Events other apps may listen to without diagnostics knowing who listens.

The notices app (mail and webhooks) connects to these; diagnostics never
imports it. Each is sent after the transaction that stored the event commits.
"""

from __future__ import annotations

from django.dispatch import Signal

# sender: StateChange; kwargs: change (the stored StateChange).
state_changed = Signal()
# sender: Target; kwargs: target, surge (diagnostics.crowd.Surge), at (datetime).
crowd_surge = Signal()
