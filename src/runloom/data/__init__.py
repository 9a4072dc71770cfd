"""Data functions: one module per resource, each taking an open connection.

The caller decides the identity: `user_session` for requests (RLS applies), `service_session`
for system components. Functions return pydantic models or frozen dataclasses, never rows.
"""
