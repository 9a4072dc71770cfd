"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runloom import __version__
from runloom.api.errors import install_error_handlers
from runloom.api.limits import BodySizeLimit
from runloom.api.routes import auth, executions, health, projects, workers, workflows
from runloom.api.state import AppState
from runloom.api.static import mount_ui
from runloom.db.pool import create_pool
from runloom.services.temporal import TemporalConnection
from runloom.settings import Settings


def create_app(settings: Settings, *, database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(database_url, max_size=settings.runloom_db_pool_size)
        temporal = TemporalConnection(settings)
        app.state.runloom = AppState(settings=settings, pool=pool, temporal=temporal)
        try:
            yield
        finally:
            await temporal.close()
            await pool.close()

    app = FastAPI(
        title="runloom",
        version=__version__,
        summary="Visual workflows compiled to Python Temporal code",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit)
    install_error_handlers(app)
    for module in (health, auth, projects, workers, workflows, executions):
        app.include_router(module.router, prefix="/api")
    mount_ui(app)
    return app
