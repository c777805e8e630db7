"""File-system Celery broker for the embedded default, with atomic message writes.

kombu's filesystem transport writes a message file in place (open, lock, write)
while readers move and read it without the lock, so a worker polling every 20 ms can
read a half-written file and die on a JSON error. Writing to a temporary name and
renaming it into place (atomic on POSIX) means readers only ever see whole messages.
"""

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

SCHEME = "switchyardfs"


class AtomicChannel(filesystem.Channel):
    """A filesystem channel whose `_put` publishes whole files only."""

    # kombu's filesystem Channel names the message `payload` where its virtual base
    # names it `message`; this override follows the class it replaces.
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        # No ".<queue>.msg" suffix: readers skip the file until it is renamed.
        temporary = os.path.join(self.data_folder_out, f".partial-{uuid.uuid4()}")
        with open(temporary, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, os.path.join(self.data_folder_out, name))


class Transport(filesystem.Transport):
    """The filesystem transport with atomic writes."""

    Channel = AtomicChannel


def register() -> None:
    """Make `switchyardfs://` broker URLs resolve to this transport."""
    TRANSPORT_ALIASES.setdefault(SCHEME, f"{__name__}:Transport")
