"""`gateway serve --workers 2`: two uvicorn worker processes share the port, both serve, and all stop on SIGTERM.

Which worker served a request is read from the kernel, not from the app: the test opens a TCP connection, finds
the worker process whose file descriptors hold the accepted end of it (/proc/net/tcp gives the socket's inode,
/proc/<pid>/fd the owner), then sends its request on that connection. Each worker's /metrics (per process, as
design.md says) must then count exactly the GraphQL requests the kernel says it received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapters.openml_v1.emulator import RunningEmulator
from tests.deploy.support import ServeProcess, gateway_serve, metric_total

QUERY = "query Dataset($id: ID!) { dataset(id: $id) { id name } }"
MAX_CONNECTIONS = 200


def _server_socket_inode(server_port: int, client_port: int) -> int | None:
    """Inode of the server's end of the loopback connection ``client_port -> server_port``, once accepted."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote and fields[3] == "01":  # 01: ESTABLISHED
            return int(fields[9])
    return None


def _owner(pids: list[int], inode: int) -> int | None:
    target = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == target:
                        return pid
    return None


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


@dataclass
class Connection:
    """One keep-alive HTTP/1.1 connection to the server and the worker PID that accepted it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    pid: int

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        await self.writer.drain()
        status_line, *headers = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = next(int(h.split(":", 1)[1]) for h in headers if h.lower().startswith("content-length:"))
        return int(status_line.split(" ")[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


@contextlib.asynccontextmanager
async def connect(serve: ServeProcess, workers: list[int]) -> AsyncIterator[Connection]:
    """A new connection, yielded once the kernel shows which worker accepted it (2 s at most)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", serve.port)
    conn = None
    try:
        client_port = writer.get_extra_info("sockname")[1]
        for _ in range(200):
            inode = _server_socket_inode(serve.port, client_port)
            pid = _owner(workers, inode) if inode is not None else None
            if pid is not None:
                conn = Connection(reader, writer, pid)
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError(f"no worker of {workers} accepted the connection from port {client_port}")
        yield conn
    finally:
        if conn is not None:
            await conn.close()
        else:
            writer.close()


async def _workers_of(serve: ServeProcess, count: int) -> list[int]:
    for _ in range(300):  # 30 s at most: each worker imports the app and starts on its own
        workers = serve.worker_pids()
        if len(workers) == count:
            return workers
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {count} uvicorn workers, found {serve.worker_pids()}")


async def test_serve_workers_both_serve_and_stop_cleanly(openml_emulator: RunningEmulator) -> None:
    env = {"GATEWAY_OPENML_URL": openml_emulator.url, "GATEWAY_LOG_LEVEL": "warning"}
    async with gateway_serve(env, "--workers", "2") as serve:
        workers = await _workers_of(serve, 2)
        assert serve.pid not in workers
        served: Counter[int] = Counter()

        async def one(n: int) -> None:
            async with connect(serve, workers) as conn:
                body = json.dumps({"query": QUERY, "variables": {"id": f"openml:dataset:{n}"}}).encode()
                status, raw = await conn.request("POST", "/graphql", body)
                assert status == 200 and "errors" not in json.loads(raw), raw
                served[conn.pid] += 1

        connections = 0
        # Connections in pairs, concurrently, until each worker has accepted (and served) at least 3 of them.
        while min(served[pid] for pid in workers) < 3:
            assert connections < MAX_CONNECTIONS, f"one worker took every connection: {served}"
            await asyncio.gather(one(connections % 50 + 1), one((connections + 1) % 50 + 1))
            connections += 2
        # Each worker's own /metrics counts exactly the GraphQL requests the kernel handed to that worker.
        counted: dict[int, float] = {}
        for pid in workers:
            for _ in range(MAX_CONNECTIONS):
                async with connect(serve, workers) as conn:
                    if conn.pid == pid:
                        status, raw = await conn.request("GET", "/metrics")
                        assert status == 200
                        counted[pid] = metric_total(raw.decode(), "gateway_graphql_requests_total")
                        break
        print(f"\n--workers 2: master {serve.pid}, requests per worker {dict(served)}, /metrics {counted}")
        assert counted == {pid: float(served[pid]) for pid in workers}

        os.kill(serve.pid, signal.SIGTERM)  # the master (our process) stops its workers
        async with asyncio.timeout(20):
            code = await serve.process.wait()
    assert code == 0
    assert not [pid for pid in workers if _alive(pid)], "a worker outlived the master"
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", serve.port)
