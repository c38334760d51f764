"""Imports every capability's tables so ``Base.metadata`` knows the whole schema.

Alembic's environment imports this module; a new capability adds its model here.
"""

from hukou.accounts import model as accounts_model  # noqa: F401
from hukou.audit import model as audit_model  # noqa: F401
from hukou.casework import model as casework_model  # noqa: F401
from hukou.exchange import model as exchange_model  # noqa: F401
from hukou.holidays import model as holidays_model
from hukou.registry import households as registry_households
from hukou.registry import model as registry_model
from hukou.security import model as security_model  # noqa: F401

__all__ = ["holidays_model", "registry_households", "registry_model"]
