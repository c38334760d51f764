"""A tiny synthetic city, generated once for the security tests that need stored data."""

from __future__ import annotations

from pathlib import Path

import pytest

from hukou.synth.city import generate_city
from hukou.synth.config import CityConfig


@pytest.fixture(scope="session")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("security-city") / "city"
    generate_city(CityConfig(population=200, seed=43), out)
    return out
