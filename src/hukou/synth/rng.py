"""Independent, named random streams derived from one seed.

Each concern (households, names, each feed's defects …) draws from its own stream,
so the same seed always gives the same city and changing one concern does not
reshuffle the others.
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["Streams"]


class Streams:
    """A factory of :class:`numpy.random.Generator`, one per name."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def get(self, name: str) -> np.random.Generator:
        """The generator for ``name``; the same name and seed give the same draws."""
        digest = hashlib.sha256(name.encode("utf-8")).digest()
        entropy = [self.seed, int.from_bytes(digest[:8], "little")]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))
