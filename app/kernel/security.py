"""Authorisation: the one place where roles and the owner's organisation scope are enforced.

Every operation names an *action*; `POLICY` says which roles may perform it. Owner keys are
further limited to projects whose investor is their organisation or one of its sub-units.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime

from app.enums import EntrySource, Role

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
    # Which fields of a contract each of these may change is a fact-level rule (FACT_AUTHORITY below).
    "contract.write": frozenset({Role.admin, Role.owner, Role.treasury, Role.planner, Role.approver}),
    "schedule.write": frozenset({Role.admin, Role.owner}),
    "need.write": frozenset({Role.admin, Role.owner}),
    "obstacle.write": frozenset({Role.admin, Role.owner, Role.planner}),
    # R21: planners keep the programme's watch-lists, people and working groups; owners report their progress
    "watchlist.write": frozenset({Role.admin, Role.planner}),
    "people.write": frozenset({Role.admin, Role.planner}),
    "progress.write": frozenset({Role.admin, Role.owner, Role.planner}),
    "dossier.submit": frozenset({Role.admin, Role.owner}),
    "dossier.process": frozenset({Role.admin, Role.treasury}),
    # R15/R15a: paying posts the Treasury's record of the owner's document, so only the Treasury pays.
    "dossier.pay": frozenset({Role.treasury}),
    "recovery.write": frozenset({Role.admin, Role.treasury}),
    "treasury.read": frozenset({Role.admin, Role.treasury, Role.planner, Role.approver, Role.viewer}),
    "proposal.draft": frozenset({Role.admin, Role.planner}),
    "proposal.approve": frozenset({Role.admin, Role.approver}),
    "proposal.apply": frozenset({Role.admin, Role.planner}),
    "sweep.run": frozenset({Role.admin}),
}

# Actions where an owner key is limited to its own organisation's projects.
OWNER_SCOPED = frozenset(
    {"disbursement.write", "contract.write", "schedule.write", "need.write", "obstacle.write", "dossier.submit",
     "progress.write"}
)


# Who may change a fact depends on whose fact it is (R15a, R4; docs/rules.md). The role policy above lets a caller
# reach an operation; this table decides, per fact and the fact's owner, who may change it. One table, tested as a
# matrix (tests/contract/test_fact_authority.py); `Principal.may_change` is the only reader.
#   ledger_entry.correct  reversing an entry, by its source: the Treasury's record only by the Treasury; an owner's
#                         unconfirmed report by the owner (its scope is checked by OWNER_SCOPED) or the Treasury
#   ledger_entry.confirm  naming the owner's document an entry pays (superseding the owner's report): the Treasury
#   contract.controls     value, guarantee, full-recovery date, and what R8 is measured by (the contract type, the
#                         joint-venture members' shares): the Treasury's controls once the contract has advances
#   contract.advance_rate a rate above the ceiling, with the competent authority's decision: planner or approver
#   contract.details      number, contractor: the owner's own record
FACT_AUTHORITY: dict[tuple[str, str], frozenset[Role]] = {
    ("ledger_entry.correct", EntrySource.treasury.value): frozenset({Role.admin, Role.treasury}),
    ("ledger_entry.correct", EntrySource.owner.value): frozenset({Role.admin, Role.treasury, Role.owner}),
    ("ledger_entry.confirm", EntrySource.owner.value): frozenset({Role.treasury}),
    ("contract.controls", "with_advances"): frozenset({Role.admin, Role.treasury}),
    ("contract.controls", "without_advances"): frozenset({Role.admin, Role.treasury, Role.owner}),
    ("contract.advance_rate", "any"): frozenset({Role.admin, Role.planner, Role.approver}),
    ("contract.details", "any"): frozenset({Role.admin, Role.owner}),
}
CONTRACT_FACTS = {"value_vnd": "contract.controls", "agreed_advance_rate_pct": "contract.controls",
                  "guarantee_vnd": "contract.controls",
                  "guarantee_expires_on": "contract.controls", "full_recovery_date": "contract.controls",
                  "approved_advance_rate_pct": "contract.advance_rate", "approving_decision": "contract.advance_rate",
                  "contract_type": "contract.controls", "members": "contract.controls",
                  "number": "contract.details", "contractor": "contract.details", "signed_on": "contract.details"}


def source_of(role: Role) -> EntrySource:
    """R15a: an entry recorded with a Treasury key is the Treasury's record; any other is a report."""
    return EntrySource.treasury if role is Role.treasury else EntrySource.owner


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller behind an API key."""

    key_id: int
    role: Role
    organisation_id: int
    # The organisation and all its sub-units (loaded at authentication for owner keys).
    scope_organisation_ids: frozenset[int] = field(default_factory=frozenset)
    # Kept with the principal so a per-worker cache never serves a key past its expiry.
    expires_at: datetime | None = None
    # The key's organisation's validity end (exclusive, a business date): a predecessor's keys stop on the day its
    # successor takes over (DOMAIN.md §5; docs/rules.md "Organisations change").
    organisation_valid_to: date | None = None
    # The business date the owner scope was read on: successions take effect on their date, so a cached scope of
    # another day is read again.
    scope_on: date | None = None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now

    def organisation_ended(self, day: date) -> bool:
        return self.organisation_valid_to is not None and self.organisation_valid_to <= day

    def may(self, action: str) -> bool:
        return self.role in POLICY[action]

    def may_change(self, fact: str, whose: str) -> bool:
        return self.role in FACT_AUTHORITY[(fact, whose)]

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
