"""Load generation for the benchmarks: uvicorn servers, wrk (when installed) or httpx, worker RSS.

Everything runs against 127.0.0.1 and is bounded in time and count.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
WRK = shutil.which("wrk")


@dataclass
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float | None
    p99_ms: float | None
    errors: int
    tool: str
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A uvicorn process (2 workers, uvloop, httptools) started and stopped by its own pid."""

    def __init__(self, args: list[str], env: dict[str, str], health_path: str, cwd: Path = ROOT) -> None:
        self.port = free_port()
        self.cwd = cwd
        self.base = f"http://127.0.0.1:{self.port}"
        self.args, self.env, self.health_path = args, env, health_path
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        cmd = [sys.executable, *self.args, "--port", str(self.port)]
        self.proc = subprocess.Popen(
            cmd,
            cwd=self.cwd,
            env={**os.environ, **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(self.base + self.health_path, timeout=2).status_code == 200:
                    time.sleep(1.0)  # let the second worker finish starting
                    return self
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {' '.join(cmd)}")
            time.sleep(0.3)
        raise RuntimeError("server did not become healthy in 60 s")

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker process (children of the uvicorn supervisor)."""
        assert self.proc is not None
        children: list[int] = []
        for task in Path(f"/proc/{self.proc.pid}/task").glob("*/children"):
            children += [int(x) for x in task.read_text().split()]
        sizes = []
        for pid in children:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                if b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    continue  # multiprocessing's helper, not a worker
            except OSError:
                continue
            match = re.search(r"VmRSS:\s+(\d+) kB", status)
            if match:
                sizes.append(int(match.group(1)) / 1024)
        return sizes

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def app_server(env: dict[str, str], workers: int = 2) -> Server:
    return Server(["-m", "app", "serve", "--workers", str(workers)], env, "/healthz")


def hello_server() -> Server:
    return Server(
        [
            "-m",
            "uvicorn",
            "hello_app:app",
            "--app-dir",
            str(ROOT / "bench"),
            "--workers",
            "2",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        {},
        "/hello",
    )


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    url: str, connections: int, seconds: int, script: str | None = None, headers: dict[str, str] | None = None
) -> LoadResult:
    cmd = [WRK, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script or "")
        script_path = f.name
    if script:
        cmd += ["-s", script_path]
    try:
        out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(script_path)
    total = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", out)
    if total is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    seconds_taken = float(total.group(2)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[total.group(3)]
    p50 = re.search(r"\s50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    n_errors = int(errors.group(1)) if errors else 0
    if socket_errors:
        n_errors += sum(int(x) for x in socket_errors.groups())
    return LoadResult(
        int(total.group(1)),
        seconds_taken,
        _ms(p50.group(1)) if p50 else None,
        _ms(p99.group(1)) if p99 else None,
        n_errors,
        "wrk",
    )


async def _httpx_load(make_request, connections: int, seconds: float, max_requests: int) -> LoadResult:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    counter = iter(range(max_requests))
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            for n in counter:
                if time.perf_counter() > deadline:
                    return
                method, url, headers, body = make_request(n)
                t = time.perf_counter()
                response = await client.request(method, url, headers=headers, content=body)
                latencies.append(time.perf_counter() - t)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    errors = sum(v for k, v in statuses.items() if k >= 400)
    pct = (
        (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies else None
    )
    return LoadResult(
        len(latencies),
        elapsed,
        pct(0.5) if pct else None,
        pct(0.99) if pct else None,
        errors,
        "httpx",
        statuses,
    )


def run_httpx(make_request, connections: int, seconds: float, max_requests: int = 200_000) -> LoadResult:
    """make_request(n) -> (method, url, headers, body). One client process: it may be the bottleneck."""
    return asyncio.run(_httpx_load(make_request, connections, seconds, max_requests))


def lua_post_script(pools: list[tuple[int, str, str, int]], key: str, today: str, run_id: str) -> str:
    """wrk script: single-POST payments of 1,000,000 đ to random pools, unique document numbers."""
    table = ",".join(f'{{{pid},"{src}","{lvl}",{holder}}}' for pid, src, lvl, holder in pools)
    return f"""
local pools = {{{table}}}
local counter = 0
tid = 0  -- a global: setup() sets it per thread
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
function init(args)
  math.randomseed(os.time() + tid * 7919)
end
request = function()
  counter = counter + 1
  local p = pools[math.random(#pools)]
  local doc = "W-{run_id}-" .. tid .. "-" .. counter
  local body = '{{"plan_year":2024,"capital_source":"' .. p[2] .. '","budget_level":"' .. p[3] ..
    '","budget_holder_id":' .. p[4] .. ',"kind":"payment","amount_vnd":1000000,"advance_recovered_vnd":0,' ..
    '"value_date":"{today}",' ..
    '"document_number":"' .. doc .. '"}}'
  local headers = {{["Content-Type"] = "application/json", ["Authorization"] = "Bearer {key}",
                   ["Idempotency-Key"] = doc}}
  return wrk.format("POST", "/api/v1/projects/" .. p[1] .. "/disbursements", headers, body)
end
"""


def timed_gets(url: str, headers: dict[str, str], max_requests: int, max_seconds: float) -> dict:
    """Sequential GETs: first (cold) latency, then p50/p95 of the rest (bounded in count and time)."""
    times: list[float] = []
    status = None
    deadline = time.perf_counter() + max_seconds
    with httpx.Client(timeout=120) as client:
        for _ in range(max_requests):
            t = time.perf_counter()
            response = client.get(url, headers=headers)
            times.append((time.perf_counter() - t) * 1000)
            status = response.status_code
            if status != 200 or time.perf_counter() > deadline:
                break
    warm = sorted(times[1:]) or times
    return {
        "status": status,
        "cold_ms": times[0],
        "n": len(times),
        "p50_ms": statistics.median(warm),
        "p95_ms": warm[min(len(warm) - 1, int(0.95 * len(warm)))],
        "bytes": len(response.content) if status == 200 else 0,
        "detail": "" if status == 200 else json.dumps(response.json())[:200] if response.content else "",
    }
