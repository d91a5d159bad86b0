"""All ORM models; importing this package registers every table on `Base.metadata`."""

from app.models.audit import AuditEntry, Event, IdempotencyRecord
from app.models.auth import ApiKey
from app.models.base import Base
from app.models.indicators import (  # noqa: F401
    IndicatorFlagDetail,
    IndicatorRefreshState,
    IndicatorSnapshot,
    IndicatorSnapshotPool,
)
from app.models.ledger import AllocationEntry, Disbursement, PoolBalance, ProjectBalance
from app.models.medium_term import MediumTermEntry
from app.models.monitoring import (  # noqa: F401
    DisbursementSchedule,
    ExtraNeed,
    MilestonePoint,
    Obstacle,
    ObstacleChange,
    ReallocationProposal,
    ReallocationTransfer,
    ScheduleMonth,
)
from app.models.organisation import Organisation, OrganisationSuccession, WorkingGroup
from app.models.programme import (  # noqa: F401
    MilestoneReport,
    Person,
    ProgressReport,
    ProjectLead,
    WatchList,
    WatchListChange,
    WorkingGroupChange,
)
from app.models.project import Project, ProjectInvestor
from app.models.snapshot import SnapshotVersion  # noqa: F401 - also installs the snapshot bump hooks
from app.models.treasury import (  # noqa: F401
    Advance,
    CalendarDay,
    Contract,
    ContractBalance,
    ContractMember,
    Dossier,
    RecoveryCase,
    RecoveryStep,
    RuleSetOverride,
    SweepTransition,
)

__all__ = [
    "AllocationEntry",
    "ApiKey",
    "AuditEntry",
    "Base",
    "Disbursement",
    "Event",
    "IdempotencyRecord",
    "MediumTermEntry",
    "Organisation",
    "OrganisationSuccession",
    "PoolBalance",
    "Project",
    "ProjectInvestor",
    "ProjectBalance",
    "WorkingGroup",
]
