"""Issue #10: whatever still fails unexpectedly answers problem+json 500 `internal_error`, logged on one line
without SQL or its parameters, in the access log, and counted in /metrics — through a real uvicorn server.

The server is the application plus one operation that runs a failing statement carrying a parameter, as a
database error would; nothing in the application itself is replaced.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx

from app.kernel.config import ROOT
from tests.live_server import free_port

SECRET = "SECRET-PARAMETER-4711"
SERVER = f"""
import uvicorn
from sqlalchemy import text
from app.kernel.db import session_scope
from app.main import create_app

app = create_app(background_jobs=False)


@app.get("/api/v1/failing-statement")
async def failing_statement():
    async with session_scope() as session:
        await session.execute(text("SELECT * FROM no_such_table WHERE note = :p"), {{"p": "{SECRET}"}})


uvicorn.run(app, host="127.0.0.1", port=int(__import__("sys").argv[1]), log_level="info")
"""


def test_an_unhandled_error_is_one_log_line_a_counted_500_and_an_access_log_entry(tmp_path):
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "INFO", "LOG_JSON": "true"}
    out = (tmp_path / "server.log").open("w+")
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT, env=env, stdout=out,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "server did not start"
            time.sleep(0.1)
        response = httpx.get(f"{url}/api/v1/failing-statement", timeout=10)  # answered, not a dropped connection
        metrics = httpx.get(f"{url}/metrics", timeout=10).text
    finally:
        server.terminate()
        server.wait(timeout=10)
    out.seek(0)
    log = out.read()

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "internal_error" and problem["request_id"] == response.headers["x-request-id"]
    assert SECRET not in response.text and "no_such_table" not in response.text

    assert 'http_requests_total{method="GET",route="/api/v1/failing-statement",status="500"} 1.0' in metrics
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    errors = [line for line in lines if line.get("event") == "unhandled_error"]
    assert len(errors) == 1, log
    assert errors[0]["request_id"] == problem["request_id"]
    assert errors[0]["where"].startswith("app/") and errors[0]["message"].startswith("database error")
    access = [line for line in lines if line.get("event") == "request" and line.get("status") == 500]
    assert len(access) == 1 and access[0]["path"] == "/api/v1/failing-statement"
    assert SECRET not in log and "no_such_table" not in log and "Traceback" not in log, log
