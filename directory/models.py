"""Imports every model so that `Base.metadata` is complete (for Alembic and tests)."""

from directory.accounts.models import *  # noqa: F403
from directory.alerts.models import *  # noqa: F403
from directory.db import Base
from directory.listings.models import *  # noqa: F403
from directory.moderation.models import *  # noqa: F403

metadata = Base.metadata
