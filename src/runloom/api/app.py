"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runloom import __version__
from runloom.api.errors import install_error_handlers
from runloom.api.limits import BodySizeLimit
from runloom.api.live import LiveHub
from runloom.api.ratelimit import RateLimits
from runloom.api.routes import api_keys, auth, executions, health, projects, workers, workflows
from runloom.api.state import AppState
from runloom.api.static import mount_ui
from runloom.db.pool import create_pool
from runloom.services import compile_pool
from runloom.services.temporal import TemporalConnection
from runloom.settings import Settings


def create_app(settings: Settings, *, database_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(database_url, max_size=settings.runloom_db_pool_size)
        temporal = TemporalConnection(settings)
        compiler = compile_pool.CompilePool(compile_pool.PoolLimits.from_settings(settings))
        compile_pool.install(compiler)
        live = LiveHub(
            database_url,
            per_user=settings.runloom_streams_per_user,
            per_process=settings.runloom_streams_per_process,
        )
        live.start()
        app.state.runloom = AppState(settings=settings, pool=pool, temporal=temporal, live=live)
        try:
            yield
        finally:
            await live.close()
            compile_pool.install(None)
            await compiler.close()
            await temporal.close()
            await pool.close()

    app = FastAPI(
        title="runloom",
        version=__version__,
        summary="Visual workflows compiled to Python Temporal code",
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit)
    app.state.rate_limits = RateLimits(settings)
    install_error_handlers(app)
    for module in (health, auth, api_keys, projects, workers, workflows, executions):
        app.include_router(module.router, prefix="/api")
    mount_ui(app)
    return app
