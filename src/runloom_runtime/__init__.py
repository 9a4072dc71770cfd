"""Runtime helpers imported by code that runloom generates (shipped in every export).

* :mod:`runloom_runtime.templates` - Jinja2 templates/expressions in a sandbox, used in
  workflows (deterministic).
* :mod:`runloom_runtime.graph` - node-state bookkeeping and branch/join semantics, used in
  workflows.
* :mod:`runloom_runtime.http` and :mod:`runloom_runtime.python_node` - activity
  implementations for `http_request` and `python` nodes.
* :mod:`runloom_runtime.project_secrets` and :mod:`runloom_runtime.secret_steps` - project
  secrets, fetched inside activities only (from the worker's manager, or
  ``RUNLOOM_SECRET_<NAME>`` variables in an export), and redacted from what they return.

Generated code imports only ``temporalio``, the standard library and this package.
"""
