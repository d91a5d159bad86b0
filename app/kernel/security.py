"""Authorisation: the one place where roles and the owner's organisation scope are enforced.

Every operation names an *action*; `POLICY` says which roles may perform it. Owner keys are
further limited to projects whose investor is their organisation or one of its sub-units.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from app.enums import Role

KEY_PREFIX = "dm"

ALL_ROLES = frozenset(Role)

# action → roles allowed. Owner-scoped actions are listed in OWNER_SCOPED.
POLICY: dict[str, frozenset[Role]] = {
    "read": ALL_ROLES,
    "organisation.write": frozenset({Role.admin}),
    "apikey.manage": frozenset({Role.admin}),
    "audit.read": frozenset({Role.admin}),
    "ruleset.write": frozenset({Role.admin}),
    "project.write": frozenset({Role.admin, Role.planner}),
    "allocation.write": frozenset({Role.admin, Role.planner}),
    "disbursement.write": frozenset({Role.admin, Role.treasury, Role.owner}),
    "contract.write": frozenset({Role.admin, Role.owner}),
    "schedule.write": frozenset({Role.admin, Role.owner}),
    "need.write": frozenset({Role.admin, Role.owner}),
    "obstacle.write": frozenset({Role.admin, Role.owner, Role.planner}),
    "dossier.submit": frozenset({Role.admin, Role.owner}),
    "dossier.process": frozenset({Role.admin, Role.treasury}),
    "recovery.write": frozenset({Role.admin, Role.treasury}),
    "treasury.read": frozenset({Role.admin, Role.treasury, Role.planner, Role.approver, Role.viewer}),
    "proposal.draft": frozenset({Role.admin, Role.planner}),
    "proposal.approve": frozenset({Role.admin, Role.approver}),
    "proposal.apply": frozenset({Role.admin, Role.planner}),
    "sweep.run": frozenset({Role.admin}),
}

# Actions where an owner key is limited to its own organisation's projects.
OWNER_SCOPED = frozenset(
    {"disbursement.write", "contract.write", "schedule.write", "need.write", "obstacle.write", "dossier.submit"}
)


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind an API key."""

    key_id: int
    role: Role
    organisation_id: int
    # The organisation and all its sub-units (loaded at authentication for owner keys).
    scope_organisation_ids: frozenset[int] = field(default_factory=frozenset)

    def may(self, action: str) -> bool:
        return self.role in POLICY[action]

    def may_write_for_investor(self, action: str, investor_id: int) -> bool:
        if not self.may(action):
            return False
        if self.role is Role.owner and action in OWNER_SCOPED:
            return investor_id in self.scope_organisation_ids
        return True


def new_api_key() -> tuple[str, str, str]:
    """A fresh key: (full key to show once, lookup prefix, SHA-256 hash to store)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    full = f"{KEY_PREFIX}_{prefix}_{secret}"
    return full, prefix, hash_key(full)


def hash_key(full_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough (no password stretching needed).
    return hashlib.sha256(full_key.encode()).hexdigest()


def parse_key(full_key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    parts = full_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12:
        return None
    return parts[1]


def key_matches(full_key: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key(full_key), stored_hash)
