"""Database access: the pool, RLS-scoped sessions and migrations."""

from runloom.db.pool import create_pool
from runloom.db.session import Claims, service_session, user_session

__all__ = ["Claims", "create_pool", "service_session", "user_session"]
