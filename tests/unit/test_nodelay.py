"""asyncio sets TCP_NODELAY on connections accepted from a socket made the way Streamlit makes
its server's (protocol 0) once serve.py has run :func:`nodelay.on_every_connection`, and not
before (fleetspend/ui/nodelay.py)."""

from __future__ import annotations

import asyncio
import socket
from asyncio import base_events
from concurrent.futures import ThreadPoolExecutor

import pytest

from fleetspend.ui import nodelay


def _accepted_nodelay() -> int:
    """TCP_NODELAY of a connection an asyncio server accepted from a protocol-0 socket."""
    async def accept() -> int:
        listening = socket.socket(family=socket.AF_INET)  # as Streamlit's _bind_socket does
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        listening.setblocking(False)
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Report(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                sock = transport.get_extra_info("socket")
                accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Report, sock=listening)
        async with server:
            _, writer = await asyncio.open_connection(*listening.getsockname())
            result = await asyncio.wait_for(accepted, 10)
            writer.close()
        return result

    # in a thread of its own: a test before may leave an event loop running in this one
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, accept()).result()


@pytest.fixture
def asyncio_as_shipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """asyncio's check as it is now, put back after the test."""
    monkeypatch.setattr(base_events, "_set_nodelay", base_events._set_nodelay)


def test_asyncio_leaves_nagle_on_for_streamlits_kind_of_socket(asyncio_as_shipped) -> None:
    # if this fails, asyncio sets the option on such sockets itself and nodelay.py can go
    assert _accepted_nodelay() == 0


def test_after_on_every_connection_each_accepted_connection_has_nodelay(
        asyncio_as_shipped) -> None:
    nodelay.on_every_connection()
    assert _accepted_nodelay() == 1
