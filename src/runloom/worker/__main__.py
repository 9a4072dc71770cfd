"""``python -m runloom.worker``: one project's worker process (see runloom.worker.process)."""

from runloom.worker.process import main

raise SystemExit(main())
