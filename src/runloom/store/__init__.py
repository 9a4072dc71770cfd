"""All of runloom's SQL: one module per table or concern, each function taking an open
connection. SQL text lives in ``sql/<name>.sql`` beside these modules.

The caller decides the identity: ``user_session`` for requests (RLS applies),
``service_session`` for system components. Functions return pydantic models or frozen
dataclasses, never rows.
"""
