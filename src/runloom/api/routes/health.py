"""`GET /api/health`: is the database reachable, is Temporal serving."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from runloom.api.deps import PoolDep, TemporalDep
from runloom.db.pool import Pool

router = APIRouter(tags=["health"])

Check = Literal["ok", "down"]


class Health(BaseModel):
    database: Check
    temporal: Check
    detail: str | None = None


async def _database_ok(pool: Pool) -> bool:
    try:
        async with asyncio.timeout(2), pool.connection(timeout=2) as conn:
            await conn.execute("SELECT 1")
        return True
    except Exception:
        return False


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
async def health(pool: PoolDep, temporal: TemporalDep, response: Response) -> Health:
    database_ok, temporal_ok = await asyncio.gather(_database_ok(pool), temporal.check_health())
    down = [name for name, ok in (("database", database_ok), ("temporal", temporal_ok)) if not ok]
    if down:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(
        database="ok" if database_ok else "down",
        temporal="ok" if temporal_ok else "down",
        detail=f"{' and '.join(down)} unreachable" if down else None,
    )
