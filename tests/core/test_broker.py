"""The embedded default's filesystem broker never shows a reader a half-written message."""

import os

from kombu import Connection, Exchange, Queue

from apps.core import broker


def _connection(folder):
    return Connection(
        "filesystem://",
        transport="apps.core.broker:Transport",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            "store_processed": False,
        },
    )


def test_a_message_appears_under_its_readable_name_only_once_complete(tmp_path, monkeypatch):
    seen_before_rename = []
    rename = os.replace

    def watching_rename(source, target):
        # The moment before the message becomes visible: nothing a reader matches exists yet,
        # and what is about to appear is already the whole message.
        seen_before_rename.append([name for name in os.listdir(tmp_path) if name.endswith(".msg")])
        with open(source, "rb") as written:
            assert written.read().endswith(b"}")
        rename(source, target)

    monkeypatch.setattr(broker.os, "replace", watching_rename)
    queue = Queue("mail", Exchange("mail"), "mail")
    with _connection(tmp_path) as connection:
        channel = connection.default_channel
        queue(channel).declare()
        connection.Producer(channel).publish(
            {"to": "x" * 100_000}, exchange="mail", routing_key="mail"
        )

        assert seen_before_rename == [[]]
        message = queue(channel).get()
        assert message.payload == {"to": "x" * 100_000}
        message.ack()
