"""The simulator's world and operations: each op is `gen_X(i) → args` (from the model, no I/O; None when there is
nothing to act on) and `do_X(ctx, args)` (HTTP through `ctx.req`, which checks every answer). See simulator.py."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING

import httpx

from app.enums import Role
from app.kernel import caches
from app.kernel.config import get_settings
from app.kernel.security import OWNER_SCOPED, POLICY, source_of
from tests import conftest
from tests.simulation.authority_ops import AUTHORITY_WEIGHTS, AuthorityOps

if TYPE_CHECKING:
    from tests.simulation.simulator import Ctx

B = 10**9
SETUP_DAY, START, END = date(2023, 12, 1), date(2024, 6, 3), date(2026, 6, 30)
POOLS = [(2023, "local_balanced", "province"), (2024, "local_balanced", "province"), (2024, "land_use", "province"),
         (2025, "local_balanced", "province")]
KEYS = ["admin", "planner", "approver", "approver2", "treasury", "owner", "other_owner", "viewer"]
ROLE = {k: Role.approver if k == "approver2" else Role.owner if k == "other_owner" else Role(k) for k in KEYS}
WEIGHTS = {"disburse": 30, "batch": 5, "reverse": 7, "allocate": 9, "tmdt": 3, "contract_new": 2, "contract_edit": 4,
           "need": 2, "dossier_file": 4, "dossier_act": 5, "proposal": 5, "misuse": 2, "held": 2, "recovery_step": 3,
           "clock": 3, "sweep": 3, "replay": 3, **AUTHORITY_WEIGHTS}
ALLOCATION_KINDS = {"initial": 15, "supplement": 30, "adjustment_in": 15, "adjustment_out": 15, "extension": 15,
                    "lapse": 10, "next_year_advance": 8, "advance_repayment": 2}  # R1a (the last always refused)
CONTRACT_TYPES = ["consulting", "construction", "equipment", "epc", "turnkey", "other"]
PROPOSAL_ACTION = {"draft": "proposal.draft", "submit": "proposal.draft", "approve": "proposal.approve",
                   "reject": "proposal.approve", "apply": "proposal.apply"}


class Operations(AuthorityOps):
    """Mixed into `Sim`: the world, the model of what exists (labels → ids), and every operation."""

    def __init__(self, seed: int, weights: dict[str, int] | None = None) -> None:
        self.rng, self.weights = random.Random(seed), weights or WEIGHTS
        self.projects: list[dict] = []  # by index: {id, investor_id}
        self.contracts: dict[str, dict] = {}  # label → {id, p}
        self.disb: dict[str, dict] = {}  # label → {id, p, doc, kind, ak, rev}
        self.dossiers: dict[str, dict] = {}
        self.proposals: dict[str, int] = {}
        self.sent: dict[str, dict] = {}  # label → a POST with an Idempotency-Key, for replays
        self.adv_by_disb: dict[int, int] = {}  # from the change feed
        self.case_by_adv: dict[int, int] = {}
        self.feed_after = 0

    # -- the world ------------------------------------------------------------------------------------------------
    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver", timeout=120)

    async def setup(self) -> None:
        from app.main import create_app

        settings, rng = get_settings(), self.rng
        settings.clock_today = SETUP_DAY
        settings.auth_failure_limit = 0  # stale keys fail authentication on purpose, all from one address
        await conftest.truncate_all()
        caches.clear_all()
        self.app = create_app(background_jobs=False)
        self.world = w = await getattr(conftest.world, "__wrapped__", conftest.world)()
        self.scope = {"owner": {w.investor_id, w.sub_investor_id}, "other_owner": {w.other_investor_id}}
        investors = [w.investor_id, w.investor_id, w.sub_investor_id, w.other_investor_id, w.investor_id]
        async with self.client() as http:
            for k, investor in enumerate(investors):
                stage = ["ongoing", "new", "completed"][k % 3]
                project = await conftest.make_project(http, w, code=f"SIM-{k}", tmdt=rng.randint(150, 400) * B,
                                                      investor_id=investor, stage=stage)
                self.projects.append({"id": project["id"], "investor_id": investor})
                self._ok(await conftest.allocate(http, w, project["id"], rng.randint(20, 60) * B, year=2023,
                                                 decided="2023-01-05"))
            settings.clock_today = START
            for k, p in enumerate(self.projects):
                for year, source, level in POOLS[1:3]:
                    self._ok(await conftest.allocate(http, w, p["id"], rng.randint(20, 60) * B, year=year,
                                                     source=source, level=level, decision=f"{k}/QĐ-UBND"))
                for j in range(2 if k < 4 else 0):
                    value = rng.randint(20, 60) * B if j == 0 else rng.randint(5, 30) * B
                    frd = "2025-03-31" if j == 0 else [None, "2024-09-30", "2025-06-30", "2025-06-30"][k]
                    body = {"number": f"HD-{k}-{j}", "contract_type": "construction" if j == 0 else
                            rng.choice(CONTRACT_TYPES), "contractor": f"Nhà thầu {k}{j}", "value_vnd": value,
                            "signed_on": f"2024-0{2 + j}-15", "full_recovery_date": frd,
                            "guarantee_vnd": 0 if (k, j) == (3, 1) else value * 3 // 10,
                            "guarantee_expires_on": "2024-12-31" if (k, j) == (0, 1) else "2026-12-31"}
                    r = self._ok(await http.post(f"/api/v1/projects/{p['id']}/contracts", json=body,
                                                 headers=w.h("admin")))
                    self.contracts[f"c{k}{j}"] = {"id": r.json()["id"], "p": k}

    @staticmethod
    def _ok(r: httpx.Response) -> httpx.Response:
        if r.status_code != 201:
            raise RuntimeError(f"world setup failed: {r.request.method} {r.request.url} → {r.status_code} {r.text}")
        return r

    # -- generation helpers (sync, from the model only) ----------------------------------------------------------
    @property
    def today(self) -> date:
        return get_settings().clock_today

    def forbidden(self, key: str, action: str, investors) -> bool:
        role = ROLE[key]
        if role not in POLICY[action]:
            return True
        return role is Role.owner and action in OWNER_SCOPED and any(i not in self.scope[key] for i in investors)

    def pick_key(self, action: str, p: int | None = None) -> str:
        if self.rng.random() < 0.07:
            return self.rng.choice(KEYS)
        investors = [self.projects[p]["investor_id"]] if p is not None else []
        return self.rng.choice([k for k in KEYS if not self.forbidden(k, action, investors)])

    def pick_q(self) -> int:
        year = self.today.year
        return self.rng.choices(range(len(POOLS)), [3 if y == year else 1.5 if y == year - 1 else 0.5
                                                    for y, _, _ in POOLS])[0]

    def days(self, hi: int = 25) -> int:
        r = self.rng.random()
        return self.rng.randint(0, hi) if r < 0.9 else 0 if r < 0.95 else self.rng.choice([-1, -30, 400])

    def idem(self) -> str | None:
        return str(uuid.UUID(int=self.rng.getrandbits(128))) if self.rng.random() < 0.85 else None

    def amount(self, base: str, hi: int = 600) -> list:
        r, rng = self.rng.random(), self.rng
        if r < 0.25:
            return ["abs", 0, int(10 ** rng.uniform(8, 10.7))]
        if r < 0.7:
            return [base, rng.randint(5, hi), 0]
        if r < 0.85:  # exactly what is left: fills contracts and pools, so reversals meet full balances
            return [base, 1000, 0]
        return rng.choice([[base, 1000, 0], [base, 1000, 1], [base, 1000, -1], ["abs", 0, 0], ["abs", 0, -5 * B],
                           ["abs", 0, 10**15], ["abs", 0, 10**15 + 1], ["abs", 0, 1]])

    def labels(self, table: dict, **where) -> list[str]:
        return [label for label, x in table.items() if all(x.get(k) == v for k, v in where.items())]

    def row(self, tag: str, ps: list[int] | None = None, hi: int = 600) -> dict:
        rng = self.rng
        p, q = rng.choice(ps or range(len(self.projects))), self.pick_q()
        kind = rng.choices(["payment", "advance", "clearance"], [50, 35, 15])[0]
        cons = self.labels(self.contracts, p=p)
        a = {"p": p, "q": q, "kind": kind, "ak": None, "contract": None, "rec": None, "date": ["ago", self.days()],
             "doc": f"KB-{tag}"}
        if kind == "advance":
            a["ak"] = rng.choices(["contract", "site_clearance", "other"], [50, 25, 25])[0]
            if cons and (a["ak"] == "contract") == (rng.random() < 0.95):  # 5%: missing / mismatched contract
                a["contract"] = rng.choice(cons)
            a["amount"] = self.amount("c_adv" if a["contract"] else "pool_rem", hi)
        elif kind == "payment":
            a["contract"] = rng.choice(cons) if cons and rng.random() < 0.6 else None
            a["amount"] = self.amount("c_rem" if a["contract"] else "pool_rem", hi)
            if rng.random() < 0.5:
                a["rec"] = ["c_out" if a["contract"] else "p_out", rng.choice([1000, 1000, 500, 200]),
                            rng.choice([0, 0, 0, 1])]
        else:  # a clearance settles advances: under a contract (its own), or the project's site-clearance ones
            a["contract"] = rng.choice(cons) if cons and rng.random() < 0.3 else None
            a["amount"] = self.amount("c_out" if a["contract"] else "p_out", 1000)
        if rng.random() < 0.03 and (docs := [x["doc"] for x in self.disb.values() if x["p"] == p]):
            a["doc"] = rng.choice(docs)  # duplicate_document
        if rng.random() < 0.2:  # R15a: the owner's document this entry pays (a report of it, or none yet)
            reports = [x["doc"] for x in self.disb.values() if x["p"] == p and x["source"] == "owner" and not x["rev"]]
            a["owner_doc"] = rng.choice(reports) if reports and rng.random() < 0.8 else f"GDN-{tag}"
        return a

    def generate(self, i: int) -> tuple[str, dict]:
        name = self.rng.choices(list(self.weights), list(self.weights.values()))[0]
        args = getattr(self, f"gen_{name}")(i)
        return (name, args) if args is not None else ("disburse", self.gen_disburse(i))

    # -- operations: gen_X(i) → args (or None: nothing to act on), do_X(ctx, args) --------------------------------
    def gen_disburse(self, i):
        a = self.row(str(i))
        return {**a, "key": self.pick_key("disbursement.write", a["p"]), "idem": self.idem()}

    async def do_disburse(self, c: Ctx, a: dict) -> None:
        p, body = self.projects[a["p"]], await self.row_body(c, a)
        c.touched.add(a["p"])
        c.money = True
        r = await c.req("POST", f"/api/v1/projects/{p['id']}/disbursements", a["key"], body=body, idem=a["idem"],
                        action="disbursement.write", investors=[p["investor_id"]], ps=[a["p"]])
        if r is not None and r.status_code == 201:
            self.remember(str(c.index), a["p"], r.json())
            await self.check_r4a(c, body)
            if "owner_document_number" in body and ROLE[a["key"]] is not Role.treasury:
                c.fail("r15a_authority", f"{a['key']} named the owner's document {body['owner_document_number']}")

    async def check_r4a(self, c: Ctx, body: dict) -> None:
        """R4a: an accepted contract advance names its contract, and that contract has its full-recovery date."""
        if (body["kind"], body.get("advance_kind")) != ("advance", "contract"):
            return
        k = (await c.get(f"/api/v1/contracts/{body['contract_id']}"))[0] if "contract_id" in body else None
        if k is None or k.get("full_recovery_date") is None:
            c.fail("r4a_contract_advance", f"advance {body['document_number']} of kind contract accepted "
                   + ("without a contract" if k is None else f"under contract {k['id']}, which has no full-recovery "
                      "date"))

    def gen_batch(self, i):
        groups = [[k for k, p in enumerate(self.projects) if p["investor_id"] in s] for s in self.scope.values()]
        ps = self.rng.choice(groups) if self.rng.random() < 0.8 else None
        rows = [self.row(f"{i}-{k}", ps, hi=150) for k in range(self.rng.randint(2, 20))]
        bad = self.rng.random()
        if bad < 0.2:
            self.rng.choice(rows)["amount" if bad < 0.1 else "date"] = ["abs", 0, 10**15] if bad < 0.1 else ["ago", -3]
        return {"key": self.pick_key("disbursement.write", rows[0]["p"]), "rows": rows, "idem": self.idem()}

    async def do_batch(self, c: Ctx, a: dict) -> None:
        rows = [{**await self.row_body(c, x), "project_id": self.projects[x["p"]]["id"]} for x in a["rows"]]
        ps = sorted({x["p"] for x in a["rows"]})
        c.touched.update(ps)
        c.money = True
        r = await c.req("POST", "/api/v1/disbursements/batch", a["key"], body={"rows": rows}, idem=a["idem"],
                        action="disbursement.write", investors=[self.projects[p]["investor_id"] for p in ps], ps=ps)
        if r is not None and r.status_code == 201:
            for k, (x, id_) in enumerate(zip(a["rows"], r.json()["ids"], strict=False)):
                self.disb[f"{c.index}.{k}"] = {"id": id_, "p": x["p"], "doc": x["doc"], "kind": x["kind"],
                                               "ak": x["ak"], "rev": False, "source": source_of(ROLE[a["key"]]).value}
                await self.check_r4a(c, rows[k])

    def gen_reverse(self, i):
        if not self.disb:
            return None
        labels = list(self.disb)
        # Half the time a recent entry or a clearance: corrections meet the balances their entry helped fill
        # (a clearance reversed after its contract was paid in full is the classic R3/R8 trap).
        clearances = [t for t in labels if self.disb[t]["kind"] == "clearance" and not self.disb[t]["rev"]]
        pool = labels[-8:] if self.rng.random() < 0.3 else clearances if clearances and self.rng.random() < 0.4 \
            else labels
        t = self.rng.choice(pool)
        return {"key": self.pick_key("disbursement.write", self.disb[t]["p"]), "t": t, "date": ["ago", self.days()],
                "doc": f"RV-{i}", "idem": self.idem()}

    async def do_reverse(self, c: Ctx, a: dict) -> None:
        if (d := self.disb.get(a["t"])) is None:
            return
        c.touched.add(d["p"])
        c.money = True
        r = await c.req("POST", f"/api/v1/disbursements/{d['id']}/reversal", a["key"], idem=a["idem"],
                        body={"document_number": a["doc"], "value_date": self.date(a["date"]), "note": "simulated"},
                        action="disbursement.write", investors=[self.projects[d["p"]]["investor_id"]], ps=[d["p"]])
        if r is not None and r.status_code == 201:
            # R15a as an invariant, written from the spec rather than read from the table it checks: the debtor
            # (an owner) never erases the Treasury's record.
            if ROLE[a["key"]] is Role.owner and d.get("source") == "treasury":
                c.fail("r15a_authority", f"{a['key']} reversed disbursement {d['id']} recorded by the "
                       f"{d.get('source')}")
            self.remember(str(c.index), d["p"], r.json())

    def gen_allocate(self, i):
        rng, p, q = self.rng, self.rng.randrange(len(self.projects)), self.pick_q()
        kind = rng.choices(list(ALLOCATION_KINDS), list(ALLOCATION_KINDS.values()))[0]
        year = POOLS[q][0]
        up = kind in ("initial", "supplement", "adjustment_in", "next_year_advance")
        return {"key": self.pick_key("allocation.write"), "p": p, "q": q, "kind": kind,
                "amount": self.amount("headroom", 150) if up else self.amount("pool_rem"), "decision": f"{i}/QĐ-UBND",
                "decided": ["ago", self.days(60)], "tranche": rng.randint(1, 4) if kind == "supplement" else None,
                "until": rng.choice([f"{year + 1}-12-31", f"{year + 1}-06-30", f"{year + 1}-01-31",
                                     f"{year + 2}-01-31"]) if kind == "extension" else None, "idem": self.idem()}

    async def do_allocate(self, c: Ctx, a: dict) -> None:
        year, source, level = POOLS[a["q"]]
        body = {"plan_year": year, "capital_source": source, "budget_level": level, "kind": a["kind"],
                "amount_vnd": await self.resolve(c, a["amount"], a), "decision_number": a["decision"],
                "decision_date": self.date(a["decided"]), "authority": "UBND tỉnh", "tranche": a["tranche"],
                "extended_until": a["until"]}
        c.touched.add(a["p"])
        await c.req("POST", f"/api/v1/projects/{self.projects[a['p']]['id']}/allocations", a["key"], body=body,
                    idem=a["idem"], action="allocation.write", ps=[a["p"]])

    def etag_mode(self) -> str:
        return self.rng.choices(["fresh", "stale", "none"], [85, 10, 5])[0]

    def gen_tmdt(self, i):
        rng = self.rng
        a = {"key": self.pick_key("project.write"), "p": rng.randrange(len(self.projects)), "etag": self.etag_mode(),
             "value": rng.choice([["floor", 1000, 0], ["floor", 1000, -1], ["floor", rng.randint(1001, 1600), 0],
                                  ["abs", 0, 10**15 + 1], ["abs", 0, 0]])}
        if rng.random() < 0.02:
            a["value"] = ["abs", 0, 10**15]  # the largest TMĐT the API takes (MAX_VND)
        if rng.random() < 0.08:
            a["status"] = rng.choice(["suspended", "active", "active"])
        return a

    async def do_tmdt(self, c: Ctx, a: dict) -> None:
        url = f"/api/v1/projects/{self.projects[a['p']]['id']}"
        _, etag = await c.get(url)
        body = {"total_investment_vnd": await self.resolve(c, a["value"], a)}
        if "status" in a:
            body["status"] = a["status"]
        c.touched.add(a["p"])
        await c.req("PATCH", url, a["key"], body=body, if_match=self.if_match(a["etag"], etag), action="project.write")

    def if_match(self, mode: str, etag: str | None) -> str | None:
        return etag if mode == "fresh" else '"stale-0"' if mode == "stale" else None

    def gen_contract_new(self, i):
        rng, p = self.rng, self.rng.randrange(len(self.projects))
        return {"key": self.pick_key("contract.write", p), "p": p, "number": f"HD-{i}",
                "type": rng.choice(CONTRACT_TYPES), "value": rng.randint(5, 60) * B,
                "signed": ["ago", rng.randint(0, 120)], "g": rng.choice([0, 300, 1000]),
                "frd": rng.choice(["2024-12-31", "2025-03-31", "2025-09-30", "2026-06-30", None]),
                "gexp": rng.choice(["2026-12-31", "2025-01-31"]), "agreed": rng.choice([None, None, None, 15, 20, 30]),
                "idem": self.idem()}

    async def do_contract_new(self, c: Ctx, a: dict) -> None:
        p = self.projects[a["p"]]
        body = {"number": a["number"], "contract_type": a["type"], "contractor": "Nhà thầu mới",
                "value_vnd": a["value"], "signed_on": self.date(a["signed"]), "full_recovery_date": a["frd"],
                "guarantee_vnd": a["value"] * a["g"] // 1000, "guarantee_expires_on": a["gexp"]}
        if a.get("agreed"):
            body["agreed_advance_rate_pct"] = a["agreed"]  # R4: the level the contract agreed
        r = await c.req("POST", f"/api/v1/projects/{p['id']}/contracts", a["key"], body=body, idem=a["idem"],
                        action="contract.write", investors=[p["investor_id"]], ps=[a["p"]])
        if r is not None and r.status_code == 201:
            self.contracts[str(c.index)] = {"id": r.json()["id"], "p": a["p"]}

    def gen_contract_edit(self, i):
        if not self.contracts:
            return None
        rng, t, ch = self.rng, self.rng.choice(list(self.contracts)), {}
        for name in rng.sample(["value", "guarantee", "frd", "rate", "contractor"], rng.randint(1, 2)):
            if name == "value":
                ch["value_vnd"] = rng.choice([["c_floor", 1000, 0], ["c_floor", 1000, -1], ["c_floor", 1000, 5 * B],
                                              ["c_value", 1100, 0], ["c_value", 900, 0]])
            elif name == "guarantee":
                ch["guarantee_vnd"] = rng.choice([["c_out", 1000, 0], ["c_out", 1000, -1], ["c_out", 2000, 0],
                                                  ["abs", 0, 0]])
                ch["guarantee_expires_on"] = rng.choice(["2026-12-31", "2024-12-31", None])
            elif name == "frd":
                ch["full_recovery_date"] = rng.choice(["2024-09-30", "2025-03-31", "2025-12-31", None])
            elif name == "rate":
                ch["approved_advance_rate_pct"] = rng.choice([35, 50, 100])
                if rng.random() < 0.85:
                    ch["approving_decision"] = f"{i}/QĐ-UBND"
            else:
                ch["contractor"] = f"Nhà thầu {i}"
        return {"key": self.pick_key("contract.write", self.contracts[t]["p"]), "t": t, "ch": ch,
                "etag": self.etag_mode()}

    async def do_contract_edit(self, c: Ctx, a: dict) -> None:
        if (k := self.contracts.get(a["t"])) is None:
            return
        url = f"/api/v1/contracts/{k['id']}"
        _, etag = await c.get(url)
        body = {n: await self.resolve(c, v, a) if isinstance(v, list) else v for n, v in a["ch"].items()}
        c.touched.add(k["p"])
        c.money = True
        await c.req("PATCH", url, a["key"], body=body, if_match=self.if_match(a["etag"], etag),
                    action="contract.write", investors=[self.projects[k["p"]]["investor_id"]])

    def gen_need(self, i):
        p, q = self.rng.randrange(len(self.projects)), self.pick_q()
        return {"key": self.pick_key("need.write", p), "p": p, "q": q, "amount": self.rng.randint(1, 40) * B,
                "idem": self.idem()}

    async def do_need(self, c: Ctx, a: dict) -> None:
        year, source, level = POOLS[a["q"]]
        p = self.projects[a["p"]]
        body = {"plan_year": year, "capital_source": source, "budget_level": level, "amount_vnd": a["amount"],
                "justification": "Khối lượng hoàn thành chờ thanh toán", "spend_by": f"{year}-12-31"}
        await c.req("POST", f"/api/v1/projects/{p['id']}/extra-needs", a["key"], body=body, idem=a["idem"],
                    action="need.write", investors=[p["investor_id"]])

    def gen_dossier_file(self, i):
        p, q = self.rng.randrange(len(self.projects)), self.pick_q()
        cons = self.labels(self.contracts, p=p)
        kind = self.rng.choice(["payment", "advance"])
        return {"key": self.pick_key("dossier.submit", p), "p": p, "q": q, "kind": kind,
                "contract": self.rng.choice(cons) if cons and self.rng.random() < 0.5 else None, "doc": f"HS-{i}",
                "amount": self.amount("pool_rem", 300), "idem": self.idem()}

    async def do_dossier_file(self, c: Ctx, a: dict) -> None:
        year, source, level = POOLS[a["q"]]
        p = self.projects[a["p"]]
        body = {"plan_year": year, "capital_source": source, "budget_level": level, "kind": a["kind"],
                "amount_vnd": await self.resolve(c, a["amount"], a), "document_number": a["doc"]}
        if a["contract"] in self.contracts:
            body["contract_id"] = self.contracts[a["contract"]]["id"]
        r = await c.req("POST", f"/api/v1/projects/{p['id']}/dossiers", a["key"], body=body, idem=a["idem"],
                        action="dossier.submit", investors=[p["investor_id"]], ps=[a["p"]])
        if r is not None and r.status_code == 201:
            self.dossiers[str(c.index)] = {"id": r.json()["id"], "p": a["p"]}

    def gen_dossier_act(self, i):
        if not self.dossiers:
            return None
        act = self.rng.choices(["complete", "pay", "return", "delay-reason"], [35, 30, 15, 20])[0]
        return {"key": self.pick_key("dossier.process"), "t": self.rng.choice(list(self.dossiers)), "act": act,
                "reason": self.rng.choice([None, "Thiếu bảng xác nhận khối lượng", "Chờ ý kiến chủ đầu tư"])}

    async def do_dossier_act(self, c: Ctx, a: dict) -> None:
        if (d := self.dossiers.get(a["t"])) is None:
            return
        c.touched.add(d["p"])  # paying a dossier may record its disbursement (R15)
        c.money = True
        await c.req("POST", f"/api/v1/dossiers/{d['id']}/{a['act']}", a["key"], body={"reason": a["reason"]},
                    action="dossier.process")

    def gen_proposal(self, i):
        rng = self.rng
        if not self.proposals or rng.random() < 0.3:
            return {"act": "draft", "key": self.pick_key("proposal.draft"), "year": rng.choice([2024, self.today.year]),
                    "pools": rng.random() < 0.5, "min": rng.choice([10**8, B]), "idem": self.idem()}
        act = rng.choices(["submit", "approve", "reject", "apply"], [30, 30, 10, 30])[0]
        return {"act": act, "key": self.pick_key(PROPOSAL_ACTION[act]), "t": rng.choice(list(self.proposals)),
                "etag": self.etag_mode(), "decided": ["ago", self.days(10)]}

    async def do_proposal(self, c: Ctx, a: dict) -> None:
        url = "/api/v1/reallocation-proposals"
        action = PROPOSAL_ACTION[a["act"]]
        if a["act"] == "draft":
            body = {"plan_year": a["year"], "options": {"minimum_transfer_vnd": a["min"]},
                    "pools": [{"capital_source": "local_balanced", "budget_level": "province"}] if a["pools"] else None}
            r = await c.req("POST", url, a["key"], body=body, idem=a["idem"], action=action)
            if r is not None and r.status_code == 201:
                self.proposals[str(c.index)] = r.json()["id"]
            return
        if (pid := self.proposals.get(a["t"])) is None:
            return
        _, etag = await c.get(f"{url}/{pid}")
        body = {"approve": {"authority": "UBND tỉnh", "decision_number": f"{c.index}/QĐ-UBND",
                            "decision_date": self.date(a["decided"])}, "reject": {"reason": "Chưa phù hợp"}}
        if a["act"] == "apply":
            c.touched.update(range(len(self.projects)))
        await c.req("POST", f"{url}/{pid}/{a['act']}", a["key"], body=body.get(a["act"]),
                    if_match=self.if_match(a["etag"], etag), action=action)

    def advances(self, **where) -> list[str]:
        return self.labels(self.disb, kind="advance", rev=False, **where)

    def gen_misuse(self, i):
        if not (advs := self.advances()):
            return None
        return {"key": self.pick_key("recovery.write"), "t": self.rng.choice(advs), "on": ["ago", self.days(40)],
                "doc": f"{i}/KBNN-TTr"}

    async def do_misuse(self, c: Ctx, a: dict) -> None:
        if (aid := self.advance_id(a["t"])) is not None:
            c.touched.add(self.disb[a["t"]]["p"])
            await c.req("POST", f"/api/v1/advances/{aid}/misuse", a["key"], action="recovery.write",
                        body={"marked_on": self.date(a["on"]), "document_number": a["doc"]})

    def gen_held(self, i):
        advs = self.advances(ak="site_clearance") if self.rng.random() < 0.85 else self.advances()
        if not advs:
            return None
        return {"key": self.pick_key("recovery.write"), "t": self.rng.choice(advs), "doc": f"{i}/BB-GPMB",
                "amount": self.rng.choice([["a_out", 1000, 0], ["a_out", 500, 0], ["a_out", 1000, 1], ["abs", 0, 0]])}

    async def do_held(self, c: Ctx, a: dict) -> None:
        if (aid := self.advance_id(a["t"])) is not None:
            body = {"amount_vnd": await self.resolve(c, a["amount"], {**a, "aid": aid}), "document_number": a["doc"]}
            await c.req("PUT", f"/api/v1/advances/{aid}/held-for-disputes", a["key"], body=body,
                        action="recovery.write")

    def gen_recovery_step(self, i):
        cases = [label for label in self.advances() if self.adv_by_disb.get(self.disb[label]["id"]) in self.case_by_adv]
        if not cases:
            return None
        rng = self.rng
        kind = rng.choices(["notice_sent", "commitment", "escalation"], [45, 35, 20])[0]
        return {"key": self.pick_key("recovery.write"), "t": rng.choice(cases), "kind": kind, "doc": f"{i}/TB-KBNN",
                "deadline": ["ago", -rng.randint(0, 30)] if rng.random() < 0.9 else None,
                "amount": rng.randint(1, 20) * B if rng.random() < 0.9 else None,
                "escalation": rng.choice(["people_committee_report", "guarantee_claim", "account_debit", None]),
                "idem": self.idem()}

    async def do_recovery_step(self, c: Ctx, a: dict) -> None:
        if (case := self.case_by_adv.get(self.advance_id(a["t"]) or 0)) is None:
            return
        day = self.date(a["deadline"]) if a["deadline"] else None
        body = {"kind": a["kind"], "document_number": a["doc"], "document_date": self.date(["ago", 0]),
                "deadline": day if a["kind"] == "notice_sent" else None, "note": "simulated"}
        if a["kind"] == "commitment":
            body.update(amount_vnd=a["amount"], committed_date=day)
        if a["kind"] == "escalation":
            body["escalation"] = a["escalation"]
        c.touched.add(self.disb[a["t"]]["p"])
        await c.req("POST", f"/api/v1/recovery-cases/{case}/steps", a["key"], body=body, idem=a["idem"],
                    action="recovery.write")

    def gen_clock(self, i):
        return {"days": self.rng.choice([1, 1, 2, 3, 5, 7, 10, 15, 30, 45, 92])}

    async def do_clock(self, c: Ctx, a: dict) -> None:
        get_settings().clock_today = min(END, self.today + timedelta(days=a["days"]))

    def gen_sweep(self, i):
        return {"key": self.pick_key("sweep.run")}

    async def do_sweep(self, c: Ctx, a: dict) -> None:
        c.money = True  # new recovery cases: the feed is read again
        await c.req("POST", "/api/v1/treasury/sweep", a["key"], action="sweep.run")

    def gen_replay(self, i):
        return {"t": self.rng.choice(list(self.sent)), "same": self.rng.random() < 0.75} if self.sent else None

    async def do_replay(self, c: Ctx, a: dict) -> None:
        """The same Idempotency-Key again: the same body answers the first response; another body → 422."""
        if (s := self.sent.get(a["t"])) is None:
            return
        c.touched.update(s["ps"])
        c.money = True
        content = s["content"] if a["same"] else s["content"] + b" "
        r = await c.req("POST", s["url"], s["key"], content=content, idem=s["idem"], action=s["action"],
                        investors=s["investors"])
        if r is None or s["status"] not in (200, 201):
            return
        if a["same"] and (r.status_code, r.text, r.headers.get("Idempotency-Replayed")) != (s["status"], s["body"],
                                                                                            "true"):
            c.fail("idempotency_replay", f"replay of step {a['t']} ({s['url']}): first {s['status']}, now "
                   f"{r.status_code} replayed={r.headers.get('Idempotency-Replayed')} {r.text[:600]}")
        if not a["same"] and (r.status_code != 422 or r.json().get("code") != "idempotency_key_reused"):
            c.fail("idempotency_replay", f"step {a['t']}'s key with another body → {r.status_code} {r.text[:600]}")

    # -- execution helpers ------------------------------------------------------------------------------------------
    def date(self, spec: list) -> str:
        return (self.today - timedelta(days=spec[1])).isoformat()

    def remember(self, label: str, p: int, js: dict) -> None:
        self.disb[label] = {"id": js["id"], "p": p, "doc": js["document_number"], "kind": js["kind"],
                            "ak": js.get("advance_kind"), "rev": js.get("reverses_id") is not None,
                            "source": js.get("source")}

    def advance_id(self, label: str) -> int | None:
        return self.adv_by_disb.get(self.disb[label]["id"]) if label in self.disb else None

    async def row_body(self, c: Ctx, a: dict) -> dict:
        year, source, level = POOLS[a["q"]]
        body = {"plan_year": year, "capital_source": source, "budget_level": level, "kind": a["kind"],
                "amount_vnd": await self.resolve(c, a["amount"], a), "value_date": self.date(a["date"]),
                "document_number": a["doc"]}
        if a["ak"]:
            body["advance_kind"] = a["ak"]
        if a["contract"] in self.contracts:
            body["contract_id"] = self.contracts[a["contract"]]["id"]
        if a["rec"]:
            body["advance_recovered_vnd"] = await self.resolve(c, a["rec"], a)
        if a.get("owner_doc"):
            body["owner_document_number"] = a["owner_doc"]
        return body

    async def resolve(self, c: Ctx, spec: list, a: dict) -> int:
        """[base, permille, delta] → base × permille / 1000 + delta, the base read through the API now."""
        name, permille, delta = spec
        return (await self.base(c, name, a)) * permille // 1000 + delta if name != "abs" else delta

    async def base(self, c: Ctx, name: str, a: dict) -> int:
        if name == "a_out":
            adv, _ = await c.get(f"/api/v1/advances/{a['aid']}")
            return adv["outstanding_vnd"] if adv else 0
        if name.startswith("c_"):
            label = a.get("contract") or a.get("t")
            k, _ = (await c.get(f"/api/v1/contracts/{self.contracts[label]['id']}")) if label in self.contracts else (
                None, None)
            if k is None:
                return 0
            rate = max(30, k.get("approved_advance_rate_pct") or 0)
            rate = min(rate, k.get("agreed_advance_rate_pct") or rate)  # R4: never above what the contract agreed
            return {"c_rem": k["value_vnd"] - k["paid_vnd"] - k["outstanding_vnd"], "c_out": k["outstanding_vnd"],
                    "c_adv": k["value_at_signing_vnd"] * rate // 100 - k["advanced_vnd"], "c_value": k["value_vnd"],
                    "c_floor": k["outstanding_vnd"] + k["paid_vnd"]}[name]
        pid = self.projects[a["p"]]["id"]
        bal, _ = await c.get(f"/api/v1/projects/{pid}/balances")
        proj, _ = await c.get(f"/api/v1/projects/{pid}")
        pools = (bal or {}).get("pools", [])
        total = {f: sum(x[f] for x in pools) for f in ("plan_vnd", "disbursed_vnd", "advanced_vnd",
                                                       "advance_recovered_vnd")}
        tmdt = proj["total_investment_vnd"] if proj else 0
        if name == "pool_rem":
            year, source, level = POOLS[a["q"]]
            return next((x["plan_vnd"] - x["disbursed_vnd"] for x in pools if (x["plan_year"], x["capital_source"],
                         x["budget_level"]) == (year, source, level)), 0)
        return {"p_out": total["advanced_vnd"] - total["advance_recovered_vnd"], "headroom": tmdt - total["plan_vnd"],
                "floor": max(total["plan_vnd"], total["disbursed_vnd"])}[name]
