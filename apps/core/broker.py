"""Celery's filesystem broker (the embedded default), safe from half-written messages.

kombu's filesystem transport creates a message's file under its final name and only then
writes into it, while a worker polling the folder moves and reads every file with a matching
name. A worker that looks in between reads an empty file: the message is lost and the worker's
consumer stops on an unrecoverable error. Here a message is written under a name no reader
matches and renamed into place once complete; a rename within one folder is atomic, so a reader
sees the whole message or nothing.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        # Readers match "<anything>.<queue>.msg"; a name starting with a dot never matches.
        final = os.path.join(
            self.data_folder_out,
            f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg",
        )
        partial = os.path.join(self.data_folder_out, f".writing-{uuid.uuid4()}")
        try:
            with open(partial, "wb") as message_file:
                message_file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {queue!r}") from exc


class Transport(filesystem.Transport):
    Channel = Channel
