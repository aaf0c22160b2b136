from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from tests.web.seed import Seed, seed


@pytest.fixture()
def data(db: Session) -> Seed:
    return seed(db)
