"""A seeded simulator of the whole API, in the spirit of TigerBeetle's VOPR and Formance's random workloads.

One integer seed drives everything (`random.Random(seed)`): the world — organisations and one API key per role
through the `world` fixture of tests/conftest.py, five projects, plans for 2023 and 2024 in two pools, contracts —
then weighted random operations, each by a random allowed role (now and then one that may not): single and batch
disbursements (advances of every kind, payments with and without recovery, clearances, with and without a
contract; boundary amounts: exactly what is left, one đồng more, 0, negative, 10**15), reversals of anything
(reversals and reversed entries included), allocation entries of every kind, TMĐT changes and contract edits with
If-Match (fresh, stale, missing), new contracts, extra needs, dossiers filed and processed, reallocation proposals
(draft → submit → approve → apply | reject), misuse marks, money held for disputes, recovery-case steps, the
sweep, idempotent replays, and moves of the business clock (forward only; value dates stay ≤ today).

Checked after every step (after every round with --clients > 1):
  * no 5xx (an exception raised in the app counts); every 4xx is application/problem+json with a `code`; a role or
    owner scope that `app.kernel.security.POLICY` forbids never gets a 2xx; an idempotent replay answers the first
    response (another body with the same key: 422); an accepted contract advance has a contract with its
    full-recovery date (R4a); an owner never reverses what the Treasury recorded (R15a);
  * `app.ledger.verify.check_all(session)` returns no finding;
  * through the API, for the projects the step touched: per pool 0 ≤ disbursed ≤ plan (R1); Σ disbursed and Σ plan
    ≤ TMĐT (R2); the project's outstanding advance (pools) ≥ 0 and, after a step that moved money, equal to its
    advances' outstanding (quarterly advance report, R13); per contract outstanding = advanced − recovered ≥ 0 (R7),
    outstanding + paid ≤ value (R3).
A failure prints the seed, the step, the check and its detail, then SHRINKS it (delta debugging; every attempt
starts from empty tables and a new world): the prefix up to the failure, then chunks, then single steps removed,
keeping a candidate when the same check still fails. The shortest list is printed as JSON; `--replay FILE` runs it.

The operations (and the world) live in operations.py. Steps are recorded as [index, op, args]. Args hold no database
ids: projects by their index in the world, other entities by label (the index of the step that created them; a
missing one makes the step a no-op), amounts as [base, permille, delta] resolved against the balances when the step
runs ("pool_rem", "c_out", …), dates as ["ago", days]. A shortened list therefore still means something.

Concurrent mode (--clients K ≥ 2, for PostgreSQL): K asyncio tasks, each with its own httpx.AsyncClient over
httpx.ASGITransport to the same app, issue one operation each per round (asyncio.gather); invariants are checked
after each round. The seed fixes the operations, NOT their interleaving, which cannot be made deterministic: a
failure may not come back on a second run. Its shrink replays the steps sequentially and says so when they do not
fail that way.

Command line (`make simulate` runs a long one; SIM_SEED, SIM_STEPS, SIM_CLIENTS override its defaults):
  python -m tests.simulation.simulator --seed N --steps M [--clients K] [--database-url URL] [--keep-going]
                                       [--epoch-steps E] [--shrink-seconds S] [--replay FILE] [--weights op=w,…]
                                       [--quiet]
  --database-url (or TEST_DATABASE_URL) picks the database, else a temporary SQLite file. Its schema is brought to
  `alembic upgrade heads`, and EVERY TABLE IS EMPTIED before the run and before each shrink attempt.
  --keep-going records the first failure of each check and goes on (later ones may be consequences).
  --epoch-steps E (SIM_EPOCH_STEPS, default 2000): a longer run is a chain of epochs of E steps, each from empty
  tables and a new world, the first with --seed N and epoch e with seed `epoch_seed(N, e)` (printed with its
  failures): `--seed <that seed> --steps E` reproduces it alone. (The business clock covers 06/2024–06/2026 in about
  2000 steps; past that nearly every write is outside its window, so one endless world would test little.)
pytest (tests/simulation/test_simulation.py): SIM_SEED, SIM_STEPS (2000), SIM_CONCURRENT_STEPS (2000),
SIM_SHRINK_SECONDS (120). A one-line summary with steps/s is printed at the end of each run (pytest -s shows it).
"""
# ruff: noqa: E402
from __future__ import annotations

import os
import sys

if __name__ == "__main__":  # pick the database before tests.conftest reads the environment
    for _i, _arg in enumerate(sys.argv[:-1]):
        if _arg == "--database-url":
            os.environ["TEST_DATABASE_URL"] = sys.argv[_i + 1]
    if "--quiet" in sys.argv:
        os.environ["LOG_LEVEL"] = "CRITICAL"

import argparse
import asyncio
import json
import math
import random
import time
import traceback
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx

from app.kernel.config import get_settings
from app.kernel.db import get_sessionmaker
from app.ledger.verify import check_all
from tests import conftest
from tests.simulation.operations import WEIGHTS, Operations

PROBLEM = "application/problem+json"
AUTHORITY_CHECKS = {"admin_key_survives", "r19_separation_of_duties", "revoked_key_wrote"}
API_CHECKS = {"r1_plan_cap", "r2_tmdt_cap", "r7_project_outstanding", "r13_outstanding_agree",
              "r7_contract_outstanding", "r3_contract_cap"}


@dataclass(frozen=True)
class Failure:
    check: str
    step: int
    detail: str

    def __str__(self) -> str:
        return f"step {self.step}: [{self.check}] {self.detail}"


def _where(exc: BaseException) -> str:
    """`file:line in function` of the innermost app frame of an exception raised through the ASGI transport."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    frames = traceback.extract_tb(exc.__traceback__)
    inner = [f for f in frames if "/app/" in f.filename] or frames or [None]
    f = inner[-1]
    return f"{type(exc).__name__}: {exc} at {Path(f.filename).name}:{f.lineno} in {f.name}" if f else repr(exc)


class Ctx:
    """One step's HTTP calls: every answer is checked (5xx, problem+json, authorisation) as it arrives."""

    def __init__(self, sim: Sim, http: httpx.AsyncClient, index: int) -> None:
        self.sim, self.http, self.index = sim, http, index
        self.failures: list[Failure] = []
        self.touched: set[int] = set()
        self.money = False  # the step moved money or balances: R13 and contract figures are read again
        self.cache: dict[str, tuple] = {}

    def fail(self, check: str, detail: str) -> None:
        self.failures.append(Failure(check, self.index, detail))

    async def req(self, method: str, url: str, key: str, *, body=None, content: bytes | None = None,
                  idem: str | None = None, if_match: str | None = None, action: str | None = None,
                  investors=(), ps=()) -> httpx.Response | None:
        headers = dict(self.sim.world.headers[key])
        if body is not None:
            content = json.dumps(body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        if idem:
            headers["Idempotency-Key"] = idem
        if if_match:
            headers["If-Match"] = if_match
        try:
            r = await self.http.request(method, url, content=content, headers=headers)
        except Exception as exc:  # raised inside the app: a 500 for a real client
            self.fail("http_5xx", f"{method} {url} as {key}: {_where(exc)}")
            return None
        if r.status_code >= 500:
            self.fail("http_5xx", f"{method} {url} as {key} → {r.status_code}: {r.text[:300]}")
        elif r.status_code >= 400:
            ctype = r.headers.get("content-type", "")
            code = r.json().get("code") if ctype.startswith(PROBLEM) else None
            if not isinstance(code, str) or not code:
                self.fail("problem_json", f"{method} {url} → {r.status_code} {ctype!r}: {r.text[:600]}")
        if action and r.is_success and self.sim.forbidden(key, action, investors):
            self.fail("authz", f"{method} {url} by {key} ({action}, investors {list(investors)}) → {r.status_code}")
        if idem and method == "POST" and r.headers.get("Idempotency-Replayed") is None:
            self.sim.sent[str(self.index)] = {"url": url, "key": key, "content": content, "idem": idem, "ps": list(ps),
                                              "status": r.status_code, "body": r.text, "action": action,
                                              "investors": list(investors)}
        return r

    async def get(self, url: str, cache: bool = True) -> tuple[dict | None, str | None]:
        if cache and url in self.cache:
            return self.cache[url]
        r = await self.req("GET", url, "admin")
        out = (r.json(), r.headers.get("etag")) if r is not None and r.status_code == 200 else (None, None)
        self.cache[url] = out
        return out


class Sim(Operations):
    """The engine: runs steps (generated or replayed), checks every invariant after each step or round."""

    def __init__(self, seed: int, log=print, weights: dict[str, int] | None = None) -> None:
        super().__init__(seed, weights)
        self.seed, self.log = seed, log or (lambda *_: None)
        self.steps: list[list] = []
        self.touched_by: dict[int, set[int]] = {}  # step → the projects it touched (shrinking tries those first)
        self.done, self.seconds = 0, 0.0

    # -- invariants ---------------------------------------------------------------------------------------------------
    async def poll_feed(self, c: Ctx) -> None:
        """Advance and recovery-case ids, as a poller of the change feed learns them."""
        while True:
            page, _ = await c.get(f"/api/v1/events?after={self.feed_after}&types=advance.recorded"
                                  "&types=recovery_case.opened&page_size=1000", cache=False)
            if not page or not page["items"]:
                return
            for e in page["items"]:
                payload = e["payload"]
                if e["type"] == "advance.recorded" and "disbursement_id" in payload:
                    self.adv_by_disb[payload["disbursement_id"]] = int(e["entity_id"])
                elif e["type"] == "recovery_case.opened" and "advance_id" in payload:
                    self.case_by_adv.setdefault(payload["advance_id"], int(e["entity_id"]))
            self.feed_after = page["next_after"]

    async def check(self, c: Ctx, only: str | None = None) -> None:
        """Every invariant; a shrink attempt (`only`: its check) skips the family it does not need."""
        if c.money:
            await self.poll_feed(c)
        if only is None or only.startswith("verify"):
            try:
                async with get_sessionmaker()() as session:
                    for finding in await check_all(session):
                        c.fail(f"verify:{finding.check}", f"{finding.where}: {finding.detail}")
            except Exception as exc:
                c.fail("verify_crashed", _where(exc))
        if only is None or only in API_CHECKS:
            await self.check_api(c)
        if only is None or only in AUTHORITY_CHECKS:
            await self.check_authority(c)

    async def check_api(self, c: Ctx) -> None:
        report = None
        for p in sorted(c.touched):
            pid = self.projects[p]["id"]
            proj, _ = await c.get(f"/api/v1/projects/{pid}", cache=False)
            bal, _ = await c.get(f"/api/v1/projects/{pid}/balances", cache=False)
            if not proj or not bal:
                continue
            pools, tmdt = bal["pools"], proj["total_investment_vnd"]
            for x in pools:
                if not 0 <= x["disbursed_vnd"] <= x["plan_vnd"]:
                    c.fail("r1_plan_cap", f"project {pid} pool {x['plan_year']}/{x['capital_source']}/"
                           f"{x['budget_level']}: disbursed {x['disbursed_vnd']:,} plan {x['plan_vnd']:,}")
            disbursed, planned = sum(x["disbursed_vnd"] for x in pools), sum(x["plan_vnd"] for x in pools)
            if disbursed > tmdt or planned > tmdt:
                c.fail("r2_tmdt_cap", f"project {pid}: TMĐT {tmdt:,}, disbursed {disbursed:,}, planned {planned:,}")
            outstanding = sum(x["advanced_vnd"] - x["advance_recovered_vnd"] for x in pools)
            if outstanding < 0:
                c.fail("r7_project_outstanding", f"project {pid}: pools say outstanding advance {outstanding:,}")
            if not c.money:
                continue
            if report is None:
                day = self.today
                report, _ = await c.get(f"/api/v1/reports/advances?year={day.year}&quarter={(day.month + 2) // 3}",
                                        cache=False)
            from_advances = sum(i["outstanding_vnd"] for i in (report or {}).get("items", []) if i["project_id"] == pid)
            if report is not None and from_advances != outstanding:
                c.fail("r13_outstanding_agree", f"project {pid}: pools say outstanding {outstanding:,}, its advances "
                       f"{from_advances:,}")
            cons, _ = await c.get(f"/api/v1/projects/{pid}/contracts?page_size=500", cache=False)
            for k in (cons or {}).get("items", []):
                where = f"contract {k['id']} (project {pid})"
                if not 0 <= k["outstanding_vnd"] == k["advanced_vnd"] - k["recovered_vnd"]:
                    c.fail("r7_contract_outstanding", f"{where}: advanced {k['advanced_vnd']:,} recovered "
                           f"{k['recovered_vnd']:,} outstanding {k['outstanding_vnd']:,}")
                if k["outstanding_vnd"] + k["paid_vnd"] > k["value_vnd"]:
                    c.fail("r3_contract_cap", f"{where}: outstanding {k['outstanding_vnd']:,} + paid "
                           f"{k['paid_vnd']:,} > value {k['value_vnd']:,}")

    async def step(self, http: httpx.AsyncClient, index: int, name: str, args: dict) -> Ctx:
        c = Ctx(self, http, index)
        try:
            await getattr(self, f"do_{name}")(c, args)
        except Exception as exc:  # the simulator's own bug (or an answer of an unexpected shape)
            c.fail("harness_error", f"{name}: {''.join(traceback.format_exception(exc)[-3:])}")
        return c

    # -- runs ---------------------------------------------------------------------------------------------------------
    async def run(self, n: int = 0, replay: list | None = None, clients: int = 1, keep_going: bool = False,
                  target: str | None = None, progress: int = 0) -> list[Failure]:
        """Generate `n` steps (or run `replay`), `clients` at a time; stop at the first failure (of `target`)."""
        await self.setup()
        https = [self.client() for _ in range(clients)]
        failures: list[Failure] = []
        total, seen, started = (len(replay) if replay is not None else n), set(), time.monotonic()
        try:
            while self.done < total:
                batch = []
                for k in range(min(clients, total - self.done)):
                    if replay is not None:
                        batch.append(replay[self.done + k])
                    else:
                        batch.append([self.done + k, *self.generate(self.done + k)])
                    self.steps.append(batch[-1])
                ctxs = await asyncio.gather(*(self.step(h, *s) for h, s in zip(https, batch, strict=False)))
                self.done += len(batch)
                if progress and self.done % progress < len(batch):
                    self.log(f"... step {self.done}, {self.done / (time.monotonic() - started):.1f} steps/s, "
                             f"business date {self.today}")
                final = Ctx(self, https[0], batch[-1][0])
                final.touched, final.money = set().union(*(x.touched for x in ctxs)), any(x.money for x in ctxs)
                self.touched_by.update((x.index, x.touched) for x in ctxs)
                await self.check(final, target)
                new = []
                for f in (f for x in [*ctxs, final] for f in x.failures if f.check not in seen):
                    seen.add(f.check)
                    new.append(f)
                    self.log(f"FAIL seed={self.seed} {f}")
                failures += new
                if new and (target is None and not keep_going or any(f.check == target for f in new)):
                    break
        finally:
            self.seconds = time.monotonic() - started
            for h in https:
                await h.aclose()
            get_settings().clock_today = date(2024, 10, 11)
        return failures


async def shrink(seed: int, steps: list, check: str, seconds: float, log=print,
                 focus: dict[int, set[int]] | None = None) -> list | None:
    """Delta debugging (complements, then single steps) on fresh, empty tables; None: does not reproduce.

    `focus` (step → projects touched) first tries, in one attempt, only the steps that touched no project or one
    of those the failing step touched."""
    deadline = time.monotonic() + seconds

    async def attempt(candidate: list) -> list | None:
        sim = Sim(seed, log=None)
        got = [f for f in await sim.run(replay=candidate, keep_going=True, target=check) if f.check == check]
        return [s for s in candidate if s[0] <= got[0].step] if got else None

    if (current := await attempt(steps)) is None:
        return None
    n, tries = 2, 1
    if focus and (near := focus.get(current[-1][0])):
        tries += 1
        current = await attempt([s for s in current if not focus.get(s[0]) or focus[s[0]] & near]) or current
    while len(current) > 1 and time.monotonic() < deadline:
        size, reduced = math.ceil(len(current) / n), False
        for start in range(0, len(current), size):
            tries += 1
            cut = await attempt(current[:start] + current[start + size:])
            if cut:
                current, n, reduced = cut, max(n - 1, 2), True
                break
            if time.monotonic() > deadline:
                break
        if not reduced:
            if size == 1:
                break
            n = min(len(current), n * 2)
    log(f"shrunk [{check}] from {len(steps)} to {len(current)} step(s) in {tries} attempt(s)"
        + (" (time budget hit)" if time.monotonic() > deadline else ""))
    return current


@dataclass
class Report:
    seed: int
    failures: list[Failure] = field(default_factory=list)
    shrunk: dict[str, list | None] = field(default_factory=dict)
    steps: int = 0
    rate: float = 0.0
    text: str = ""


async def simulate(seed: int, steps: int = 0, *, clients: int = 1, keep_going: bool = False,
                   shrink_seconds: float = 120.0, replay: list | None = None, log=print,
                   weights: dict[str, int] | None = None, progress: int = 0) -> Report:
    sim = Sim(seed, log, weights)
    failures = await sim.run(steps, replay=replay, clients=clients, keep_going=keep_going, progress=progress)
    report = Report(seed, failures, steps=sim.done, rate=sim.done / max(sim.seconds, 1e-9))
    lines = [f"SIM seed={seed} clients={clients} db={'postgresql' if conftest.IS_POSTGRES else 'sqlite'} "
             f"steps={sim.done} {sim.seconds:.1f}s {report.rate:.1f} steps/s failures={len(failures)} "
             f"{sorted({f.check for f in failures})}"]
    for f in failures:
        lines.append(f"FAILURE seed={seed} {f}")
        prefix = [s for s in sim.steps if s[0] // clients <= f.step // clients]  # its whole round
        if f.check.startswith("harness"):
            continue
        round_ = [s for s in prefix if s[0] // clients == f.step // clients]
        focus = {**sim.touched_by, prefix[-1][0]: set().union(*(sim.touched_by.get(s[0], set()) for s in round_))}
        shortest = await shrink(seed, prefix, f.check, shrink_seconds, log, focus)
        report.shrunk[f.check] = shortest
        if shortest is None:
            lines.append(f"  [{f.check}] did not come back on a sequential replay of the {len(prefix)} steps"
                         + (" (interleaving-dependent)" if clients > 1 else ""))
            lines.append("  its round: " + json.dumps(round_, ensure_ascii=False))
        else:
            lines.append(f"  shortest ({len(shortest)} steps; replay with --replay FILE --seed {seed}):")
            lines.append("[" + ",\n ".join(json.dumps(s, ensure_ascii=False) for s in shortest) + "]")
    report.text = "\n".join(lines)
    log(report.text)
    return report


async def _prepare_database() -> None:
    from alembic import command

    await asyncio.to_thread(command.upgrade, conftest.alembic_config(), "heads")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SIM_SEED", "1")))
    parser.add_argument("--steps", type=int, default=int(os.environ.get("SIM_STEPS", "2000")))
    parser.add_argument("--clients", type=int, default=int(os.environ.get("SIM_CLIENTS", "1")))
    parser.add_argument("--database-url", help="async SQLAlchemy URL (default: a temporary SQLite file)")
    parser.add_argument("--keep-going", action="store_true", help="go on after a failure (first one per check)")
    parser.add_argument("--shrink-seconds", type=float, default=600.0)
    parser.add_argument("--replay", type=Path, help="JSON list of [index, op, args] steps to run instead")
    parser.add_argument("--quiet", action="store_true", help="only the summary and the failures")
    parser.add_argument("--weights", default="", help="override operation weights, e.g. reverse=20,clock=0")
    parser.add_argument("--epoch-steps", type=int, default=int(os.environ.get("SIM_EPOCH_STEPS", "2000")),
                        help="steps per world (0: one world for the whole run)")
    args = parser.parse_args()

    async def go() -> bool:
        await _prepare_database()
        replay = json.loads(args.replay.read_text()) if args.replay else None
        weights = {**WEIGHTS, **{k: int(v) for k, v in (w.split("=") for w in args.weights.split(",") if w)}}
        size = args.epoch_steps if args.epoch_steps > 0 and replay is None else args.steps
        reports: list[Report] = []
        for epoch in range(math.ceil(args.steps / max(size, 1))):
            reports.append(await simulate(epoch_seed(args.seed, epoch), min(size, args.steps - epoch * size),
                                          clients=args.clients, keep_going=args.keep_going, replay=replay,
                                          shrink_seconds=args.shrink_seconds, weights=weights, progress=1000))
            if reports[-1].failures and not args.keep_going:
                break
        if len(reports) > 1:
            steps, seconds = sum(r.steps for r in reports), sum(r.steps / max(r.rate, 1e-9) for r in reports)
            print(f"SIM total seed={args.seed} epochs={len(reports)} steps={steps} {steps / seconds:.1f} steps/s "
                  f"failures={[(r.seed, f.check) for r in reports for f in r.failures]}")
        return any(r.failures for r in reports)

    return 1 if asyncio.run(go()) else 0


def epoch_seed(seed: int, epoch: int) -> int:
    """Epoch 0 runs the seed itself; later epochs a seed derived from (seed, epoch)."""
    return seed if epoch == 0 else random.Random(f"{seed}:{epoch}").getrandbits(40)


if __name__ == "__main__":
    sys.exit(main())
