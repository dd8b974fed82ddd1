"""Serve a real vantage6-server 4.15 without Docker: ``python vantage6_launch.py CONFIG HOST PORT``.

Runs inside the server's own Python 3.10 venv (it imports nothing from the gateway). It does what
backends.md §2 lists, and nothing else:

1. on Python 3.11+, restores 3.10's ``format()`` of ``(str, Enum)`` members, which vantage6's permission
   names (``f"{operation}_{scope}"``) rely on;
2. makes ``vantage6.common.context.running_in_docker`` return False (this host has ``/.dockerenv``, which
   would send the server's logs to ``/mnt/log``);
3. calls ``vantage6.server.run_server(config, system_folders=False)`` (tables, default roles, root user);
4. serves the Flask app with gevent's pywsgi server, setting TCP_NODELAY on every accepted socket
   (without it a reused keep-alive connection waits ~40 ms per request: Nagle plus delayed ACK).

Socket.IO is not served (the REST API is all the tests use). SIGTERM stops the server.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import contextlib  # noqa: E402 - after gevent's monkey patching, as vantage6 itself does
import enum  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

__all__ = ["main"]


def _enum_shim() -> None:
    """Format mixed-in enum members by value (3.10 behaviour) on Python 3.11+."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script runs on the server's Python 3.10
        return

    def _format(self: enum.Enum, spec: str) -> str:
        member_type = type(self).__mro__[1] if len(type(self).__mro__) > 2 else object
        if member_type is not object and not issubclass(member_type, enum.Enum):
            return member_type.__format__(self._value_, spec)
        return str.__format__(str(self), spec)

    enum.Enum.__format__ = _format  # type: ignore[method-assign]


def _not_in_docker() -> None:
    import vantage6.common.context as context

    context.running_in_docker = lambda: False


def main(argv: list[str]) -> int:
    """Start the server described by ``argv = [config, host, port]`` and serve until SIGTERM."""
    config, host, port = argv[0], argv[1], int(argv[2])
    _enum_shim()
    _not_in_docker()

    from gevent import pywsgi
    from vantage6.server import run_server

    server_app = run_server(config, system_folders=False)

    class NoDelayServer(pywsgi.WSGIServer):
        def handle(self, sock: socket.socket, address: Any) -> None:
            with contextlib.suppress(OSError):  # the client already hung up: the handler will notice
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    server = NoDelayServer((host, port), server_app.app, log=None, error_log=sys.stderr)

    def _stop(*_: object) -> None:
        server.stop(timeout=2)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    print(f"vantage6: http://{host}:{port}/api", flush=True)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
