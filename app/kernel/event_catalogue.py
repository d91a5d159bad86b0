"""Every change-feed event type and the members of its payload (published in the OpenAPI document).

One table: type → (entity_type, what happened, payload members). A member is `name: json-type`, `?` marking
null allowed. `tests/contract/test_event_catalogue.py` checks that every type the code emits is listed here and
that the payloads written by real requests have exactly these members with these types.
"""

from __future__ import annotations

from typing import Any

_DISBURSEMENT = ("id:integer plan_year:integer project_id:integer kind:string amount_vnd:integer "
                 "advance_recovered_vnd:integer net_vnd:integer value_date:date document_number:string "
                 "reverses_id:integer? source:string origin:string owner_document_number:string?")
_CONTRACT = "id:integer project_id:integer number:string value_vnd:integer version:integer"
_CASE = "id:integer advance_id:integer state:string deadline:date?"
_CASE_STEP = f"{_CASE} document_number:string? escalation:string?"
_DOSSIER = "id:integer project_id:integer kind:string status:string amount_vnd:integer sla_due:date?"
_ADVANCE_MARK = ("id:integer project_id:integer contract_id:integer? kind:string outstanding_vnd:integer "
                 "held_for_disputes_vnd:integer misuse_marked_on:date? document_number:string")
_ADVANCE_DUE = ("advance_id:integer rule:string rule_set:string deadline:date? outstanding_vnd:integer "
                "overdue_vnd:integer days_overdue:integer days_to_overdue:integer? as_of:date")
_GUARANTEE = ("contract_id:integer rule:string guarantee_vnd:integer expires_on:date? outstanding_vnd:integer "
              "as_of:date")
_PROPOSAL = ("id:integer plan_year:integer status:string moved_vnd:integer transfer_count:integer "
             "decision_number:string?")

EVENT_TYPES: dict[str, tuple[str, str, str]] = {
    "project.created": ("project", "A project was registered", "id:integer code:string"),
    "project.updated": ("project", "A project's fields changed (`changed` names them)", "id:integer changed:array"),
    "allocation.recorded": ("allocation_entry", "A capital-plan entry (initial, tranche, adjustment, extension, "
                            "lapse, reallocation, next-year advance and its generated repayment) was recorded",
                            "id:integer project_id:integer plan_year:integer capital_source:string "
                            "budget_level:string budget_holder_id:integer kind:string amount_vnd:integer "
                            "added_vnd:integer decision_number:string decision_date:date"),
    "medium_term.recorded": ("medium_term_entry", "A medium-term plan entry (ceiling per period and source, R1c) was "
                             "recorded", "id:integer project_id:integer period_start:integer capital_source:string "
                             "kind:string amount_vnd:integer decision_number:string decision_date:date"),
    "disbursement.recorded": ("disbursement", "A disbursement was recorded", _DISBURSEMENT),
    "disbursement.reversed": ("disbursement", "A reversing entry was recorded (`reverses_id` names the original)",
                              _DISBURSEMENT),
    "advance.recorded": ("advance", "An advance was opened by a disbursement",
                         "id:integer disbursement_id:integer kind:string contract_id:integer? amount_vnd:integer "
                         "advanced_on:date"),
    "advance.updated": ("advance", "An advance's recovered amount changed (recovery or reversal)",
                        "id:integer recovered_vnd:integer outstanding_vnd:integer"),
    "advance.due_soon": ("advance", "The sweep found an advance due within 30 days (R12)", _ADVANCE_DUE),
    "advance.overdue": ("advance", "The sweep found an advance overdue (R9–R11)", _ADVANCE_DUE),
    "advance.marked_misuse": ("advance", "The Treasury marked an advance as misused (R9)", _ADVANCE_MARK),
    "advance.held_for_disputes": ("advance", "The Treasury set the amount held for disputes (R10)", _ADVANCE_MARK),
    "advance.extended": ("advance", "An `other` advance's deadline was extended by a decision (R11)",
                         "id:integer project_id:integer contract_id:integer? kind:string outstanding_vnd:integer "
                         "held_for_disputes_vnd:integer misuse_marked_on:date? extended_until:date "
                         "decision_number:string decided_on:date"),
    "contract.created": ("contract", "A contract was registered", _CONTRACT),
    "contract.updated": ("contract", "A contract changed (`changed` names the fields)", f"{_CONTRACT} changed:array"),
    "contract.guarantee_expiring": ("contract", "The sweep found an advance guarantee expiring (R6)", _GUARANTEE),
    "contract.guarantee_expired": ("contract", "The sweep found an advance guarantee expired (R6)", _GUARANTEE),
    "recovery_case.opened": ("recovery_case", "The sweep opened a recovery case for an overdue advance (R16)",
                             f"{_CASE} rule:string overdue_vnd:integer"),
    "recovery_case.notice_sent": ("recovery_case", "A recovery notice was recorded (R16)", _CASE_STEP),
    "recovery_case.commitment": ("recovery_case", "The investor's commitment was recorded (R16)", _CASE_STEP),
    "recovery_case.escalation": ("recovery_case", "The case was escalated (R16)", _CASE_STEP),
    "recovery_case.recovery": ("recovery_case", "Money was recovered on the case's advance (R16)",
                               "id:integer advance_id:integer recovered_vnd:integer outstanding_vnd:integer "
                               "state:string"),
    "recovery_case.closed": ("recovery_case", "The case's advance is fully recovered (R16)",
                             "id:integer advance_id:integer recovered_vnd:integer outstanding_vnd:integer "
                             "state:string"),
    "dossier.submitted": ("dossier", "A payment or advance dossier was submitted (R15)", _DOSSIER),
    "dossier.complete": ("dossier", "The Treasury accepted the dossier as complete; the SLA starts", _DOSSIER),
    "dossier.paid": ("dossier", "The Treasury paid the dossier", _DOSSIER),
    "dossier.returned": ("dossier", "The Treasury returned the dossier with a reason", _DOSSIER),
    "dossier.delay_reason": ("dossier", "The Treasury recorded why the dossier is late", f"{_DOSSIER} reason:string"),
    "obstacle.opened": ("obstacle", "An obstacle was opened",
                        "id:integer project_id:integer category:string status:string"),
    "obstacle.changed": ("obstacle", "An obstacle changed (`changes`: field → [before, after])",
                         "id:integer project_id:integer changes:object"),
    "schedule.registered": ("disbursement_schedule", "A monthly disbursement schedule revision was registered",
                            "id:integer project_id:integer plan_year:integer revision:integer total_vnd:integer"),
    "milestone_curve.set": ("milestone_curve", "The province's milestone curve of a plan year was set",
                            "plan_year:integer points:array"),
    "extra_need.registered": ("extra_need", "A project registered an extra capital need",
                              "id:integer project_id:integer plan_year:integer amount_vnd:integer spend_by:date"),
    "reallocation_proposal.drafted": ("reallocation_proposal", "A reallocation proposal was drafted (R19)", _PROPOSAL),
    "reallocation_proposal.submitted": ("reallocation_proposal", "A proposal was submitted for approval", _PROPOSAL),
    "reallocation_proposal.approved": ("reallocation_proposal", "A proposal was approved", _PROPOSAL),
    "reallocation_proposal.rejected": ("reallocation_proposal", "A proposal was rejected", _PROPOSAL),
    "reallocation_proposal.applied": ("reallocation_proposal", "A proposal's transfers were applied to the plans",
                                      _PROPOSAL),
    "watch_list.created": ("watch_list", "A watch-list was set up (R21)", "id:integer code:string"),
    "watch_list.membership_changed": ("watch_list", "A project joined or left a watch-list from a date (R21)",
                                      "id:integer watch_list_id:integer code:string project_id:integer "
                                      "action:string effective_on:date"),
    "person.created": ("person", "A person was registered", "id:integer full_name:string"),
    "project.lead_assigned": ("project", "A project's lead official was named from a date (R21)",
                              "id:integer project_id:integer person_id:integer effective_on:date"),
    "working_group.membership_changed": ("working_group", "A person joined or left a working group (R21)",
                                         "id:integer working_group_id:integer person_id:integer action:string "
                                         "role:string effective_on:date"),
    "project.progress_reported": ("project", "A project's physical progress was reported (R21)",
                                  "id:integer project_id:integer reported_on:date physical_pct:number"),
    "project.milestone_reported": ("project", "A milestone's planned or actual date was reported (R21)",
                                   "id:integer project_id:integer milestone:string planned_on:date? "
                                   "actual_on:date? reported_on:date"),
    "rule_set.updated": ("rule_set", "An administrator overrode rule-set values", "code:string changed:array"),
    "calendar_day.set": ("calendar_day", "A working/non-working calendar day was set",
                         "day:date kind:string description:string"),
    "calendar_day.deleted": ("calendar_day", "A calendar day override was deleted", "day:date"),
}

_JSON_TYPES: dict[str, dict[str, Any]] = {
    "integer": {"type": "integer"}, "number": {"type": "number"}, "string": {"type": "string"},
    "array": {"type": "array", "items": {}},
    "object": {"type": "object"}, "date": {"type": "string", "format": "date"}}


def members(type_: str) -> dict[str, tuple[str, bool]]:
    """name → (json type, null allowed) of one event type's payload."""
    out = {}
    for member in EVENT_TYPES[type_][2].split():
        name, _, kind = member.partition(":")
        out[name] = (kind.rstrip("?"), kind.endswith("?"))
    return out


def payload_schema(type_: str) -> dict[str, Any]:
    """The JSON Schema of one event type's payload."""
    properties: dict[str, Any] = {}
    for name, (kind, nullable) in members(type_).items():
        schema: dict[str, Any] = dict(_JSON_TYPES[kind])
        if nullable:
            schema = {"anyOf": [schema, {"type": "null"}]}
        properties[name] = schema
    return {"type": "object", "title": f"{type_} payload", "description": EVENT_TYPES[type_][1],
            "properties": properties, "required": sorted(properties), "additionalProperties": False}
