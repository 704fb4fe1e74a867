"""All models, importable from one place: ``from distribution.models import Lead``."""

from distribution.models.accounts import ApiKey, Buyer, LoginThrottle, Partner, User, Vendor
from distribution.models.audit import AuditEntry
from distribution.models.buyers import LedgerEntry, LedgerKind, ReturnStatus, Sale, SaleStatus
from distribution.models.deals import DealRegistration, DealStatus
from distribution.models.delivery import Delivery, DeliveryAttempt, Destination, DestinationTest
from distribution.models.drops import DropFile, DropFileStatus, DropKind, FileDrop
from distribution.models.leads import (
    Campaign,
    IdempotencyRecord,
    Job,
    Lead,
    LeadEvent,
    Suppression,
)
from distribution.models.people import Invitation, PasswordReset
from distribution.models.quotas import Quota
from distribution.models.reports import (
    ReportCloseRollup,
    ReportRollup,
    ReportSegmentRollup,
    ReportSourceRollup,
    ReportSpan,
    ReportSpanTotal,
)
from distribution.models.routing import Rule, RuleSet
from distribution.models.types import (
    OPEN_ASSIGNMENT_STATUSES,
    TERMINAL_INTAKE_STATUSES,
    AssignmentMode,
    AssignmentStatus,
    DeliveryStatus,
    DestinationKind,
    FollowUpKind,
    JobStatus,
    LeadStatus,
    PartnerKind,
    Role,
    RuleAction,
    RuleSetStatus,
    SuppressionKind,
)
from distribution.models.work import Assignment, FollowUp, PoolEligibility

__all__ = [
    "OPEN_ASSIGNMENT_STATUSES",
    "TERMINAL_INTAKE_STATUSES",
    "ApiKey",
    "Assignment",
    "AuditEntry",
    "AssignmentMode",
    "AssignmentStatus",
    "Buyer",
    "Campaign",
    "DealRegistration",
    "DealStatus",
    "Delivery",
    "DeliveryAttempt",
    "DeliveryStatus",
    "Destination",
    "DestinationKind",
    "DestinationTest",
    "DropFile",
    "DropFileStatus",
    "DropKind",
    "FileDrop",
    "FollowUp",
    "FollowUpKind",
    "IdempotencyRecord",
    "Invitation",
    "Job",
    "JobStatus",
    "Lead",
    "LeadEvent",
    "LeadStatus",
    "LoginThrottle",
    "PasswordReset",
    "LedgerEntry",
    "LedgerKind",
    "Partner",
    "PartnerKind",
    "PoolEligibility",
    "Quota",
    "ReportCloseRollup",
    "ReportRollup",
    "ReportSegmentRollup",
    "ReportSourceRollup",
    "ReportSpan",
    "ReportSpanTotal",
    "ReturnStatus",
    "Role",
    "Rule",
    "RuleAction",
    "RuleSet",
    "RuleSetStatus",
    "Sale",
    "SaleStatus",
    "Suppression",
    "SuppressionKind",
    "User",
    "Vendor",
]
