"""The exchange tests' small linked registry (per module and engine), for filing on it,
and the app over it."""

from tests.exchange.conftest import client, registry, small_city

__all__ = ["client", "registry", "small_city"]
