"""The one write path: every change to listing data is proposed, reviewed and applied through
these functions, version-checked and audited. The API, the manage app, the importer and the CLI
all call them here; this module is the facade of the package's modules (one concern each):

    propose.py     propose, propose_group (who may propose what; applied at once or pending)
    validation.py  which fields a kind of change sets, cleaning, cross-field checks
    scopes.py      where a record is (places, region, service) for region scopes
    groups.py      a new listing as one group of creates: found, ordered, applied as one
    review.py      approve (three-way merge), reject, withdraw, acknowledge
    apply.py       writing an approved change, its implied changes, audit entries, reindex
    revert.py      revert to an earlier version
    diff.py        a change's diff and the merge's conflicts
    queue.py       get_change, the moderators' queue, my_changes
    reports.py     readers' reports
    audit.py       audit snapshots, the audit log, authors' names

UI-agnostic (no FastAPI), session first, keyword-only arguments, never commits; raises
`directory.errors.*`. Entity types: organization, service, location, address, phone, schedule,
notice (see `fields.FIELDS` for what may be changed).

    propose(session, *, actor, entity_type, kind, entity_id=None, changes=None,
            translations=None, base_version=None, comment=None, source="api",
            trusted_publish=False, now=None) -> ChangeRequest
        Validates (ValidationFailed with a path per bad field), checks `base_version` against the
        record (PreconditionFailed with current_version) and the actor's role and regions
        (Forbidden). A moderator's/admin's change is applied at once (state `approved`, they are
        the reviewer) unless the fraud guard holds it; a volunteer's stays `pending`, except a
        trusted volunteer's status/capacity update when `trusted_publish` (applied, needs_review).
        `changes`: {field: value}; `translations`: {field: {locale: text}}; kinds: create,
        update, archive, restore, status, capacity, verify.
    approve(session, *, change_id, reviewer, now=None) -> ChangeRequest
        Applies atomically. Forbidden for the author, volunteers and out-of-region moderators.
        When the record moved on since base_version, a three-way merge on fields: Conflict (409,
        extra current_version + diff + conflicts) only if a field (or translation) the proposal
        touches was changed since (per the audit log) to something else than it proposes;
        otherwise it is applied on top of the current record (still version-checked).
    reject(session, *, change_id, reviewer, reason) -> ChangeRequest   (reason shown to the author)
    withdraw(session, *, change_id, actor) -> ChangeRequest            (the author's own, pending)
    acknowledge(session, *, change_id, reviewer) -> ChangeRequest      (clears needs_review)
    revert(session, *, actor, entity_type, entity_id, to_version, comment=None, now=None)
        -> ChangeRequest   (a new, audited change restoring the values at `to_version`)
    get_change(session, *, change_id, viewer) -> ChangeRequest   (author or moderator in scope)
    diff(session, *, change) -> list[FieldChange]   (field by field vs the published record)
    queue(session, *, viewer, region_id=None, category=None, kind=None, older_than=None,
          limit=100) -> QueueView
    my_changes(session, *, author, state=None, limit=100) -> list[ChangeRequest]
    report(session, *, service_id, kind, text=None, locale=None, now=None) -> Report
    resolve_report(session, *, report_id, moderator, dismiss=False) -> Report
    audit(session, *, viewer, entity_type=None, entity_id=None, limit=100, before=None)
        -> list[AuditEntry]
    propose_group(session, *, actor, records: list[GroupRecord], comment=None, source="api",
                  now=None) -> list[ChangeRequest]
        A new listing as one group of creates that refer to each other (same `group_id`);
        `propose(..., group_id=...)` adds one record to a group. Approving or rejecting any
        change of a group approves (parents first, atomically) or rejects the whole group;
        withdrawing withdraws it. The queue lists a group once (its head, the service's create;
        members in `QueueView.groups`); `group_of(session, *, change)` gives the members.
    deferred_reindex(session) -> context manager yielding set[uuid.UUID]
        Applies inside it collect the services to reindex instead of reindexing each change;
        the caller reindexes them once (`search.index.reindex_services`) before committing.
"""

from directory.accounts.models import Role
from directory.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
    TooManyRequests,
    ValidationFailed,
)
from directory.moderation.apply import deferred_reindex
from directory.moderation.audit import account_names, audit, snapshot
from directory.moderation.diff import NEVER_CONFLICTS, FieldChange, diff
from directory.moderation.groups import GroupRecord, group_head, group_of
from directory.moderation.models import (
    AuditEntry,
    ChangeKind,
    ChangeRequest,
    ChangeState,
    Report,
    ReportKind,
    ReportState,
)
from directory.moderation.propose import (
    FEED_SOURCE,
    MODERATOR_KINDS,
    MODERATOR_TYPES,
    QUICK_KINDS,
    propose,
    propose_group,
)
from directory.moderation.queue import GROUPED_WINDOW, QueueView, get_change, my_changes, queue
from directory.moderation.reports import REPORTS_PER_SERVICE_PER_HOUR, report, resolve_report
from directory.moderation.revert import revert
from directory.moderation.review import acknowledge, approve, reject, withdraw
from directory.moderation.scopes import in_scope_of

# The errors and models the callers catch and compare with, as they were importable from here.
__all__ = [
    "AuditEntry",
    "ChangeKind",
    "ChangeRequest",
    "ChangeState",
    "Conflict",
    "Forbidden",
    "NotFound",
    "PreconditionFailed",
    "Report",
    "ReportKind",
    "ReportState",
    "TooManyRequests",
    "ValidationFailed",
    "FEED_SOURCE",
    "GROUPED_WINDOW",
    "MODERATOR_KINDS",
    "MODERATOR_TYPES",
    "NEVER_CONFLICTS",
    "QUICK_KINDS",
    "REPORTS_PER_SERVICE_PER_HOUR",
    "FieldChange",
    "GroupRecord",
    "QueueView",
    "Role",
    "acknowledge",
    "account_names",
    "approve",
    "audit",
    "deferred_reindex",
    "diff",
    "get_change",
    "group_head",
    "group_of",
    "in_scope_of",
    "my_changes",
    "propose",
    "propose_group",
    "queue",
    "reject",
    "report",
    "resolve_report",
    "revert",
    "snapshot",
    "withdraw",
]
