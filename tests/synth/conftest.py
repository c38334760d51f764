"""A small synthetic city shared by the synth tests (built once per session)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hukou.synth.config import CityConfig
from hukou.synth.feeds.base import FeedContext
from hukou.synth.lifefacts import add_life_facts
from hukou.synth.population import generate_population
from hukou.synth.rng import Streams


@pytest.fixture(scope="session")
def small_config() -> CityConfig:
    return CityConfig(population=3000, seed=7)


@pytest.fixture(scope="session")
def feed_context(small_config: CityConfig, tmp_path_factory: pytest.TempPathFactory) -> FeedContext:
    """People with life facts and an empty city folder; feeds write into ``ctx.out``."""
    streams = Streams(small_config.seed)
    population = add_life_facts(small_config, streams, generate_population(small_config, streams))
    out: Path = tmp_path_factory.mktemp("city")
    return FeedContext(small_config, streams, population, out)
