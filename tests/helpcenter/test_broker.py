"""The embedded broker never hands a worker half a message."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from kombu import Connection, Exchange, Queue

from helpcenter.broker import AtomicFilesystemTransport


def queue_name() -> str:
    # kombu remembers declared queues per transport class: a fresh name per test.
    return f"checks.test-{uuid.uuid4().hex[:8]}"


def connect(folder: Path) -> Connection:
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
        # The moment the message is being written: what could a reader pick up now?
        # (A list is an exchange's routing table, written when the queue is declared.)
        if isinstance(payload, dict):
            seen_while_writing.append([p.name for p in (tmp_path / "queue").glob("*.msg")])
        return real_dumps(payload)

    name = queue_name()
    monkeypatch.setattr(broker, "dumps", watching_dumps)  # type: ignore[attr-defined]
    with connect(tmp_path) as connection:
        connection.SimpleQueue(name).put({"n": 1})
    assert seen_while_writing == [[]]
    assert len(list((tmp_path / "queue").glob(f"*.{name}.msg"))) == 1


def test_routing_tables_are_never_seen_half_written_and_no_binding_is_lost(
    tmp_path: Path,
) -> None:
    """Declaring queues while others publish: the stock transport truncates an exchange's
    table before rewriting it, so a publisher could read it empty (a JSON error, seen in
    CI) and two declarers could drop each other's bindings (seen here: 150 of 300)."""
    exchange = Exchange(f"ex-{uuid.uuid4().hex[:8]}", type="direct")
    per_binder = 150
    errors: list[BaseException] = []
    sizes: list[int] = []
    binding_done = threading.Event()

    def bind(prefix: str) -> None:
        with connect(tmp_path) as connection:
            channel = connection.channel()
            for n in range(per_binder):
                Queue(f"{prefix}{n}", exchange, routing_key=f"{prefix}{n}").bind(channel).declare()

    def read() -> None:
        with connect(tmp_path) as connection:
            channel = connection.channel()
            while not binding_done.is_set():
                try:
                    sizes.append(len(channel.get_table(exchange.name)))
                except BaseException as exc:
                    errors.append(exc)

    binders = [threading.Thread(target=bind, args=(prefix,)) for prefix in ("a", "b")]
    reader = threading.Thread(target=read)
    reader.start()
    for binder in binders:
        binder.start()
    for binder in binders:
        binder.join(timeout=60)
    binding_done.set()
    reader.join(timeout=60)

    assert errors == []
    assert sizes == sorted(sizes)  # bindings only ever added: no read saw fewer than before
    with connect(tmp_path) as connection:
        assert len(connection.channel().get_table(exchange.name)) == 2 * per_binder
    assert not list((tmp_path / "control").glob(".*.partial"))


def test_the_first_connection_creates_the_folders(tmp_path: Path) -> None:
    # Settings only name them: importing settings creates nothing.
    folder = tmp_path / "broker"
    with connect(folder) as connection:
        queue = connection.SimpleQueue(queue_name())
        queue.put({"n": 1})
        assert queue.get(timeout=5).payload == {"n": 1}
    assert (folder / "queue").is_dir() and (folder / "control").is_dir()
