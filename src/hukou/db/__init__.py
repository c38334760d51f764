"""Storage plumbing: engine, sessions, the declarative base and migrations.

Capabilities declare their tables on :class:`Base` and reach the database through
:func:`session_scope`; schema changes go through Alembic (``hukou db upgrade``).
"""

from hukou.db.base import Base
from hukou.db.engine import create_engine_for, session_scope
from hukou.db.migrate import current_revision, head_revision, upgrade

__all__ = [
    "Base",
    "create_engine_for",
    "current_revision",
    "head_revision",
    "session_scope",
    "upgrade",
]
