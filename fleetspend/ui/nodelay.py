"""Every connection to the app's server with Nagle's algorithm off, so the browser gets each
response when it is written, not 40 ms later (serve.py).

asyncio means to set TCP_NODELAY on every TCP connection (Python 3.6 on), but checks that
the socket's protocol reads IPPROTO_TCP. Streamlit (1.67) binds its server's socket itself
with ``socket.socket(family=...)``, which leaves the protocol at 0, and the sockets accepted
from it read 0 too, so none of its connections get the option (uvicorn#3149 is the same bug
for uvicorn's own pre-bound sockets). uvicorn writes a response's headers and its body in
two sends. On a keep-alive connection Nagle's algorithm holds back the body until the
browser acknowledges the headers, and the browser delays that acknowledgement by 40 ms, so
every response after the first on a connection arrives 40 ms late. A fresh page fetches
about 60 of Streamlit's scripts over six connections, about ten such waits on each, before
Streamlit can start; websocket messages sent in a burst wait the same way.

serve.py is imported once the socket is bound but before any connection is accepted, so
:func:`on_every_connection` lets asyncio set the option on every TCP stream socket it wraps,
whatever protocol number the socket was created with.
"""

from __future__ import annotations

import socket
from asyncio import base_events


def on_every_connection() -> None:
    """From now on, asyncio sets TCP_NODELAY on each TCP connection it accepts or opens."""
    base_events._set_nodelay = _set_nodelay  # type: ignore[attr-defined]


def _set_nodelay(sock: socket.socket) -> None:
    """asyncio's own check, less the protocol number (0 on sockets made without one)."""
    if sock.family in {socket.AF_INET, socket.AF_INET6} and sock.type == socket.SOCK_STREAM:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
