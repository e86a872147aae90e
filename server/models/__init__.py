"""The EHR core's tables. Importing this package registers every model on the metadata."""

from server.models.audit import AuditChainHead, AuditEvent
from server.models.base import Base
from server.models.devices import Device, DeviceCommand, DeviceStatus, EnrollmentCode
from server.models.documentation import (
    Amendment,
    EarlyWarningLevel,
    EarlyWarningScore,
    InfusionAdministration,
    VisitEvent,
    VisitNote,
    VitalSign,
)
from server.models.jobs import JobRun, SchedulerLease
from server.models.mfa import ChallengePurpose, MfaChallenge, MfaCredential, MfaRecoveryCode
from server.models.notifications import EmailOutbox, Notification
from server.models.orders import FrequencyKind, OrderStatus, TherapyOrder
from server.models.patients import (
    AccessDeviceType,
    LocationKind,
    Patient,
    PatientStatus,
    ServiceLocation,
)
from server.models.pumps import Pump, PumpAssignment, PumpRecall, PumpStatus
from server.models.review import ReviewItem, ReviewStatus, Severity
from server.models.server_keys import KeyPurpose, ServerKey
from server.models.throttling import EnrollmentFailure, KnownLoginAddress
from server.models.training import (
    ModuleStatus,
    TrainingAsset,
    TrainingAttempt,
    TrainingModule,
    TrainingState,
    TrainingStatus,
)
from server.models.users import AuthToken, LoginFailure, Role, User
from server.models.visits import Visit, VisitRevision, VisitStatus
from sync.batches import SyncBatch
from sync.feed import FeedEntry, FeedHead
from sync.ledger import InboxEntry, LedgerEntry

__all__ = [
    "AccessDeviceType",
    "Amendment",
    "AuditChainHead",
    "AuditEvent",
    "AuthToken",
    "Base",
    "ChallengePurpose",
    "Device",
    "DeviceCommand",
    "DeviceStatus",
    "EarlyWarningLevel",
    "EarlyWarningScore",
    "EmailOutbox",
    "EnrollmentCode",
    "EnrollmentFailure",
    "FeedEntry",
    "FeedHead",
    "FrequencyKind",
    "InboxEntry",
    "InfusionAdministration",
    "JobRun",
    "KeyPurpose",
    "KnownLoginAddress",
    "LedgerEntry",
    "LocationKind",
    "LoginFailure",
    "MfaChallenge",
    "MfaCredential",
    "MfaRecoveryCode",
    "ModuleStatus",
    "Notification",
    "OrderStatus",
    "Patient",
    "PatientStatus",
    "Pump",
    "PumpAssignment",
    "PumpRecall",
    "PumpStatus",
    "ReviewItem",
    "ReviewStatus",
    "Role",
    "SchedulerLease",
    "ServerKey",
    "ServiceLocation",
    "Severity",
    "SyncBatch",
    "TherapyOrder",
    "TrainingAsset",
    "TrainingAttempt",
    "TrainingModule",
    "TrainingState",
    "TrainingStatus",
    "User",
    "Visit",
    "VisitEvent",
    "VisitNote",
    "VisitRevision",
    "VisitStatus",
    "VitalSign",
]
