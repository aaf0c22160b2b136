"""Validating a proposal on the per-record path: the rules are `plan.check`'s (shared with the
bulk writer); here each value is cleaned with the session (`fields.clean`, references looked up
one by one, ids of the pending group allowed) and a refusal raises ValidationFailed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from directory.errors import NotFound, ValidationFailed
from directory.listings import models as m
from directory.moderation.fields import (
    MODELS,
    clean,
)
from directory.moderation.models import ChangeKind, ChangeRequest
from directory.moderation.plan import check


def _kind(kind: ChangeKind | str) -> ChangeKind:
    try:
        return ChangeKind(kind)
    except ValueError:
        raise ValidationFailed(
            [{"path": "kind", "code": "unknown_kind", "message": "unknown kind of change"}]
        ) from None


def _model(entity_type: str) -> type[Any]:
    try:
        return MODELS[entity_type]
    except KeyError:
        raise NotFound(f"Unknown record type {entity_type[:40]!r}") from None


def _record(session: Session, cr: ChangeRequest) -> Any:
    return session.get(MODELS[cr.entity_type], cr.entity_id)


def _validate(
    session: Session,
    entity_type: str,
    kind: ChangeKind,
    record: Any,
    changes: dict[str, Any],
    translations: Mapping[str, Mapping[str, Any]],
    *,
    now: dt.datetime,
    pending: frozenset[uuid.UUID] = frozenset(),
) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    cleaned, texts, errors = check(
        entity_type,
        kind,
        record,
        changes,
        translations,
        now=now,
        clean_value=lambda _name, spec, value: clean(
            session, spec, value, now=now, pending=pending
        ),
        clean_text=lambda spec, value: clean(session, spec, value, now=now),
        known_locale=lambda locale: session.get(m.Locale, locale) is not None,
    )
    if errors:
        raise ValidationFailed(errors)
    return cleaned, texts
