"""The embedded broker never hands a worker half a message."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from kombu import Connection

from helpcenter.broker import AtomicFilesystemTransport


def queue_name() -> str:
    # kombu remembers declared queues per transport class: a fresh name per test.
    return f"checks.test-{uuid.uuid4().hex[:8]}"


def connect(folder: Path) -> Connection:
    (folder / "queue").mkdir(parents=True, exist_ok=True)
    (folder / "control").mkdir(exist_ok=True)
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }
    return Connection(
        "filesystem://", transport=AtomicFilesystemTransport, transport_options=options
    )


def test_messages_published_while_a_reader_polls_arrive_whole(tmp_path: Path) -> None:
    body = {"payload": "x" * 200_000}  # large enough that a non-atomic write is caught mid-way
    count = 60
    name = queue_name()
    received: list[dict[str, str]] = []
    errors: list[BaseException] = []

    def read() -> None:
        with connect(tmp_path) as connection:
            queue = connection.SimpleQueue(name)
            try:
                while len(received) < count:
                    received.append(queue.get(timeout=20).payload)
            except BaseException as exc:
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    with connect(tmp_path) as connection:
        queue = connection.SimpleQueue(name)
        for _ in range(count):
            queue.put(body)
    reader.join(timeout=60)

    assert errors == []
    assert len(received) == count
    assert all(message == body for message in received)
    assert not list((tmp_path / "queue").glob(".*.partial"))


def test_no_reader_visible_file_exists_until_the_message_is_complete(
    tmp_path: Path, monkeypatch: object
) -> None:
    import helpcenter.broker as broker

    seen_while_writing: list[list[str]] = []
    real_dumps = broker.dumps

    def watching_dumps(payload: object) -> str:
        # The moment the payload is being written: what could a reader pick up now?
        seen_while_writing.append([p.name for p in (tmp_path / "queue").glob("*.msg")])
        return real_dumps(payload)

    name = queue_name()
    monkeypatch.setattr(broker, "dumps", watching_dumps)  # type: ignore[attr-defined]
    with connect(tmp_path) as connection:
        connection.SimpleQueue(name).put({"n": 1})
    assert seen_while_writing == [[]]
    assert len(list((tmp_path / "queue").glob(f"*.{name}.msg"))) == 1
