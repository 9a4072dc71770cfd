"""Use cases the API and the CLI share: deploy (compile + store), start, signal, cancel,
and requests to the worker managers. Each takes what it needs as arguments; none knows
about HTTP."""
