"""The simulator's authority operations (issue #9) and their invariants, mixed into `Operations`.

Operations: mint a key (by the world's admin or a minted admin, so issuance chains form; any role, organisation
and holder — some holders spelled like the world's keys' holders; no expiry, a short real-time expiry, a past one
→ 422 `expiry_not_in_future`), revoke a minted key or try the world's admin key when the model says it is the last
active admin key (→ 409 `last_admin_key`), use a revoked or expired key (→ 401 on a read and on a write), draft with
a minted key and try approvals by any approving key (related or not).
Invariants, written from the spec and read from the tables (never from the code they check):
  * r19_separation_of_duties: no approved proposal's approver key shares the drafter key's holder (case, spacing
    and Unicode composition ignored) or organisation, or issued it / was issued by it (transitively);
  * admin_key_survives: at least one active (unrevoked, unexpired) admin key;
  * revoked_key_wrote: no accepted write (audit status < 400) by a key at or after its revocation, nor more than
    EXPIRY_SLACK after its expiry.
Expiry is real time (timestamps are real UTC); checks within MARGIN of an expiry are skipped, not guessed.
"""

from __future__ import annotations

import asyncio
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.enums import Role
from app.kernel.db import get_sessionmaker
from app.models import ApiKey, AuditEntry, ReallocationProposal

if TYPE_CHECKING:
    from tests.simulation.simulator import Ctx

AUTHORITY_WEIGHTS = {"key_mint": 2, "key_revoke": 2, "key_stale": 2, "key_approve": 2}
MARGIN = timedelta(seconds=0.5)
EXPIRY_SLACK = timedelta(seconds=1)
HOLDERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "admin", " Planner ", "APPROVER", "second  approver"]
MINT_ROLES = {"approver": 4, "planner": 3, "admin": 3, "viewer": 1, "treasury": 1}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def person(holder: str) -> str:
    return " ".join(unicodedata.normalize("NFC", holder).split()).casefold()


class AuthorityOps:
    """Keys minted in the run: label → {id, role, revoked, expires (datetime | None)}; headers in world.headers."""

    minted: dict[str, dict]
    audit_after: int

    def _keys(self) -> dict[str, dict]:
        if not hasattr(self, "minted"):
            self.minted, self.audit_after, self.key_lock = {}, 0, asyncio.Lock()
        return self.minted

    def _live(self, k: dict, now: datetime) -> bool | None:
        """True/False, or None within MARGIN of its expiry (undecidable from outside)."""
        if k["revoked"]:
            return False
        if k["expires"] is None:
            return True
        if abs(k["expires"] - now) < MARGIN:
            return None
        return k["expires"] > now

    # -- operations -----------------------------------------------------------------------------------------------
    def gen_key_mint(self, i):
        rng, keys = self.rng, self._keys()
        admins = [t for t, k in keys.items() if k["role"] == "admin"]
        r = rng.random()
        expiry = None if r < 0.55 else ["in", rng.uniform(0.05, 3.0)] if r < 0.85 else ["in", -5] if r < 0.9 \
            else ["in", 86_400]
        return {"by": rng.choice(admins) if admins and rng.random() < 0.5 else "admin",
                "role": rng.choices(list(MINT_ROLES), list(MINT_ROLES.values()))[0], "org": rng.randrange(8),
                "holder": rng.choice(HOLDERS), "expiry": expiry}

    async def do_key_mint(self, c: Ctx, a: dict) -> None:
        keys = self._keys()
        if a["by"] != "admin" and a["by"] not in keys:
            return
        orgs, _ = await c.get("/api/v1/organisations?page_size=100")
        org = sorted(o["id"] for o in (orgs or {}).get("items", [{"id": self.world.province_id}]))
        body = {"organisation_id": org[a["org"] % len(org)], "role": a["role"], "name": f"sim {c.index}",
                "holder": a["holder"]}
        now = datetime.now(UTC)
        if a["expiry"]:
            body["expires_at"] = (now + timedelta(seconds=a["expiry"][1])).isoformat()
        async with self.key_lock:  # the model of admin keys stays exact under concurrent clients
            issuer_live = self._live(keys[a["by"]], now) if a["by"] in keys else True
            r = await c.req("POST", "/api/v1/api-keys", a["by"], body=body)
            if r is None:
                return
            if issuer_live is False and r.status_code != 401:
                c.fail("stale_key_used", f"mint by {a['by']} (revoked or expired) → {r.status_code}")
            if r.status_code == 201:
                js = r.json()
                label = f"k{c.index}"
                keys[label] = {"id": js["id"], "role": a["role"], "revoked": False,
                               "expires": datetime.fromisoformat(js["expires_at"]) if js["expires_at"] else None}
                self.world.headers[label] = {"Authorization": f"Bearer {js['key']}"}
                if a["expiry"] and a["expiry"][1] < 0:
                    c.fail("key_expiry", f"a key expiring in the past was accepted: {js}")
            elif issuer_live and a["expiry"] and a["expiry"][1] < 0 and (
                    r.status_code != 422 or r.json().get("code") != "expiry_not_in_future"):
                c.fail("key_expiry", f"a past expiry → {r.status_code} {r.text[:300]}")

    def gen_key_revoke(self, i):
        keys = self._keys()
        admins = [t for t, k in keys.items() if k["role"] == "admin"]
        targets = [t for t, k in keys.items() if not k["revoked"]]
        target = self.rng.choice(targets) if targets and self.rng.random() < 0.8 else "admin"
        return {"t": target, "by": self.rng.choice(admins) if admins and self.rng.random() < 0.4 else "admin"}

    async def do_key_revoke(self, c: Ctx, a: dict) -> None:
        keys = self._keys()
        if a["by"] != "admin" and a["by"] not in keys:
            return
        async with self.key_lock:
            now = datetime.now(UTC)
            others = [self._live(k, now) for k in keys.values() if k["role"] == "admin"]
            if a["t"] == "admin":
                if any(x is not False for x in others):
                    return  # never risk the world's admin key: the checks read through it
                kid = await self._world_admin_id(c)
            elif a["t"] in keys:
                kid = keys[a["t"]]["id"]
            else:
                return
            by_live = self._live(keys[a["by"]], now) if a["by"] in keys else True
            r = await c.req("POST", f"/api/v1/api-keys/{kid}/revoke", a["by"])
            if r is None:
                return
            if by_live is False and r.status_code != 401:
                c.fail("stale_key_used", f"revoke by {a['by']} (revoked or expired) → {r.status_code}")
            if a["t"] == "admin" and by_live and (r.status_code != 409 or r.json().get("code") != "last_admin_key"):
                c.fail("last_admin_key", f"revoking the last active admin key → {r.status_code} {r.text[:300]}")
            if r.status_code == 200 and a["t"] in keys:
                keys[a["t"]]["revoked"] = True

    async def _world_admin_id(self, c: Ctx) -> int:
        page, _ = await c.get("/api/v1/api-keys?page_size=100")
        return next(k["id"] for k in (page or {}).get("items", []) if k["name"] == "admin")

    def gen_key_stale(self, i):
        keys = self._keys()
        stale = [t for t, k in keys.items() if k["revoked"] or k["expires"] is not None]
        return {"t": self.rng.choice(stale)} if stale else None

    async def do_key_stale(self, c: Ctx, a: dict) -> None:
        if (k := self._keys().get(a["t"])) is None:
            return
        live = self._live(k, datetime.now(UTC))
        body = {"code": f"SIM-STALE-{c.index}", "name": "Khoá đã thu hồi", "kind": "other", "valid_from": "2024-01-01"}
        for method, url, payload in (("GET", "/api/v1/organisations", None), ("POST", "/api/v1/organisations", body)):
            r = await c.req(method, url, a["t"], body=payload)
            if r is not None and live is False and r.status_code != 401:
                c.fail("stale_key_used", f"{method} {url} with {'revoked' if k['revoked'] else 'expired'} key "
                       f"{k['id']} → {r.status_code} {r.text[:200]}")

    def gen_key_approve(self, i):
        keys, rng = self._keys(), self.rng
        approving = [t for t, k in keys.items() if k["role"] in ("approver", "admin")] + ["approver", "admin"]
        drafting = [t for t, k in keys.items() if k["role"] in ("planner", "admin")]
        if drafting and (not self.proposals or rng.random() < 0.3):
            return {"act": "draft", "key": rng.choice(drafting), "etag": "fresh", "decided": ["ago", 0]}
        if not self.proposals:
            return None
        return {"act": rng.choice(["submit", "approve", "approve"]), "key": rng.choice(approving),
                "t": rng.choice(list(self.proposals)), "etag": "fresh", "decided": ["ago", self.days(10)]}

    async def do_key_approve(self, c: Ctx, a: dict) -> None:
        keys = self._keys()
        if a["key"] not in keys and a["key"] not in ("approver", "admin"):
            return
        if a["act"] == "submit":  # by a drafting world key, so approvals have something to decide
            a = {**a, "key": "planner"}
        url = "/api/v1/reallocation-proposals"
        if a["act"] == "draft":
            r = await c.req("POST", url, a["key"], body={"plan_year": self.today.year, "options": {}})
            if r is not None and r.status_code == 201:
                self.proposals[str(c.index)] = r.json()["id"]
            return
        if (pid := self.proposals.get(a["t"])) is None:
            return
        _, etag = await c.get(f"{url}/{pid}", cache=False)
        body = {"authority": "UBND tỉnh", "decision_number": f"{c.index}/QĐ-UBND", "decision_date":
                self.date(a["decided"])} if a["act"] == "approve" else None
        await c.req("POST", f"{url}/{pid}/{a['act']}", a["key"], body=body, if_match=etag)

    # -- invariants -------------------------------------------------------------------------------------------------
    async def check_authority(self, c: Ctx) -> None:
        self._keys()
        now = datetime.now(UTC)
        async with get_sessionmaker()() as session:
            rows = {k.id: k for k in await session.scalars(select(ApiKey))}
            if not any(k.role is Role.admin and k.revoked_at is None and (k.expires_at is None or k.expires_at > now)
                       for k in rows.values()):
                c.fail("admin_key_survives", "no active admin key is left")
            approved = (await session.execute(
                select(ReallocationProposal.id, ReallocationProposal.drafted_by_key_id,
                       ReallocationProposal.approved_by_key_id)
                .where(ReallocationProposal.approved_by_key_id.is_not(None)))).all()
            for pid, drafter, approver in approved:
                if drafter is not None and (why := _related(rows, drafter, approver)):
                    c.fail("r19_separation_of_duties", f"proposal {pid}: drafted by key {drafter}, approved by key "
                           f"{approver} ({why})")
            audit = (await session.execute(
                select(AuditEntry.id, AuditEntry.api_key_id, AuditEntry.at, AuditEntry.method, AuditEntry.path,
                       AuditEntry.status_code)
                .where(AuditEntry.id > self.audit_after, AuditEntry.api_key_id.is_not(None))
                .order_by(AuditEntry.id))).all()
        for entry in audit:
            self.audit_after = max(self.audit_after, entry.id)
            key = rows.get(entry.api_key_id)
            if key is None or entry.method not in WRITES or entry.status_code >= 400:
                continue
            if key.revoked_at is not None and entry.at >= key.revoked_at or \
                    key.expires_at is not None and entry.at > key.expires_at + EXPIRY_SLACK:
                c.fail("revoked_key_wrote", f"audit {entry.id}: {entry.method} {entry.path} → {entry.status_code} "
                       f"by key {key.id} (revoked {key.revoked_at}, expires {key.expires_at}) at {entry.at}")


def _issuers(rows: dict[int, ApiKey], key_id: int) -> set[int]:
    found: set[int] = set()
    issuer = rows[key_id].issued_by_key_id if key_id in rows else None
    while issuer is not None and issuer not in found:
        found.add(issuer)
        issuer = rows[issuer].issued_by_key_id if issuer in rows else None
    return found


def _related(rows: dict[int, ApiKey], drafter: int, approver: int) -> str | None:
    """R19 from the spec: one person, one organisation, or one key issued by the other (at any depth)."""
    d, a = rows.get(drafter), rows.get(approver)
    if d is None or a is None:
        return None
    if d.id == a.id or person(d.holder) == person(a.holder):
        return "same holder"
    if d.organisation_id == a.organisation_id:
        return "same organisation"
    if d.id in _issuers(rows, a.id) or a.id in _issuers(rows, d.id):
        return "one issued the other"
    return None
