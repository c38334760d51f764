"""Imports every capability's tables so ``Base.metadata`` knows the whole schema.

Alembic's environment imports this module; a new capability adds its model here.
"""

from hukou.holidays import model as holidays_model
from hukou.registry import households as registry_households
from hukou.registry import model as registry_model

__all__ = ["holidays_model", "registry_households", "registry_model"]
