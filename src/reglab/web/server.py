"""Running the playground: choose the port (the documented default, else a free one), serve with uvicorn."""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Callable

__all__ = ["DEFAULT_PORT", "bind", "serve", "is_loopback"]

DEFAULT_PORT = 8470


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int | None) -> tuple[socket.socket, bool]:
    """A listening socket on ``host``: ``port`` (default ``DEFAULT_PORT``), else a free port when that one is taken.

    Returns the socket and whether it fell back to another port than the one asked for.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    wanted = DEFAULT_PORT if port is None else port
    for candidate in (wanted, 0):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as error:
            sock.close()
            if error.errno != errno.EADDRINUSE or candidate == 0:
                raise
            continue
        # Accepted connections inherit this: small writes (an event of a few hundred bytes) leave at once instead of
        # waiting for the browser's delayed acknowledgement (about 40 ms each, measured).
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.listen(128)
        sock.set_inheritable(True)
        return sock, candidate != wanted
    raise AssertionError("unreachable")


def serve(sock: socket.socket, host: str, *, on_ready: Callable[[], None] | None = None, log_level: str = "warning",
          prepare: bool = True) -> None:
    """Serve the playground on a bound socket until Ctrl-C (or SIGTERM); trainings are cancelled on the way out."""
    import uvicorn

    from .app import create_app

    app = create_app(served_host=host, prepare=prepare)
    config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=2, lifespan="on")
    server = uvicorn.Server(config)
    if on_ready is not None:
        original = server.startup

        async def startup(sockets=None):
            await original(sockets=sockets)
            on_ready()

        server.startup = startup
    server.run(sockets=[sock])
