"""kombu's filesystem transport, with messages that appear whole or not at all.

The stock transport creates the message file and then writes into it, so a
worker polling the folder can move and read the file before the publisher has
finished: the worker sees half a message (a JSON error) and the check run it
carried is lost. Here a message is written under a name no queue matches and
renamed into place; a rename within one folder is atomic, so readers only ever
see complete files. Used only on the embedded default (no Redis).
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class AtomicChannel(filesystem.Channel):
    # Same signature as filesystem.Channel._put, which itself differs from its base's.
    def _put(self, queue: str, payload: dict[str, Any], **kwargs: Any) -> None:  # type: ignore[override]
        # Same name scheme as kombu (sorted by time, then matched on queue).
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # A leading dot: partition(".") then yields no queue name, so no reader picks it up.
        partial = os.path.join(self.data_folder_out, f".{name}.partial")
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class AtomicFilesystemTransport(filesystem.Transport):
    Channel = AtomicChannel
