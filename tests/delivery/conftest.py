"""The delivery rig on both storage backends."""

from __future__ import annotations

import pytest

from bot.storage.store import Store
from tests.delivery.rig import Rig


@pytest.fixture
def rig(store: Store) -> Rig:
    """A fresh rig over the parametrised store."""
    return Rig(store)
