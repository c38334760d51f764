"""The exchange tests' small linked registry (per module and engine), to read applicants from."""

from tests.exchange.conftest import registry, small_city

__all__ = ["registry", "small_city"]
