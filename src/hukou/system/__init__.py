"""The platform's own state: health of the database, schema, reference data."""

from hukou.system.health import Health, check_health

__all__ = ["Health", "check_health"]
