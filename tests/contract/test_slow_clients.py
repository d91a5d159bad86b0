"""Slow clients against a real uvicorn (`python -m app serve`): trickled headers are cut off, a stalled body
gets 408. Server-level behaviour, so a real server process and raw sockets."""

from __future__ import annotations

import socket
import time

from tests.conftest import TEST_DATABASE_URL
from tests.live_server import LiveServer


def _connect(server: LiveServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    sock.settimeout(10)
    return sock


def test_slow_headers_and_slow_bodies_are_timed_out(tmp_path):
    server = LiveServer(TEST_DATABASE_URL, tmp_path / "server.log", HEADER_TIMEOUT_SECONDS="1",
                        BODY_TIMEOUT_SECONDS="1")
    server.start()
    try:
        # Headers never finished: the connection is closed after HEADER_TIMEOUT_SECONDS.
        sock = _connect(server)
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert sock.recv(1024) == b""  # closed by the server, no answer
        assert time.monotonic() - started < 5
        sock.close()

        # An idle connection that never sends a byte is closed the same way.
        sock = _connect(server)
        assert sock.recv(1024) == b""
        sock.close()

        # Headers complete, body announced but stalled: 408 problem+json after BODY_TIMEOUT_SECONDS.
        sock = _connect(server)
        sock.sendall(b"POST /api/v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\nAuthorization: Bearer x\r\n\r\n{\"code\":")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"application/problem+json" in answer
        sock.close()

        # A normal request on the same server still works.
        sock = _connect(server)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert sock.recv(4096).startswith(b"HTTP/1.1 200")
        sock.close()
    finally:
        server.stop()
