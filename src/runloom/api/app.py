"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from runloom import __version__
from runloom.api import metrics
from runloom.api.errors import install_error_handlers
from runloom.api.limits import BodySizeLimit
from runloom.api.live import LiveHub
from runloom.api.ratelimit import RateLimits
from runloom.api.request_ids import observe_api
from runloom.api.routes import (
    api_keys,
    auth,
    editors,
    executions,
    health,
    hooks,
    projects,
    secrets,
    steps,
    triggers,
    workers,
    workflows,
)
from runloom.api.state import AppState
from runloom.api.static import mount_ui
from runloom.db.pool import create_pool
from runloom.logs import configure_logging
from runloom.services import compile_pool, namespaces
from runloom.services.egress_policy import platform_egress
from runloom.services.step_test import StepSandbox
from runloom.services.temporal import TemporalConnection
from runloom.settings import Settings
from runloom.store.installation import PlatformQueue
from runloom.vault import Vault

_ROUTERS = (
    health,
    auth,
    api_keys,
    projects,
    secrets,
    workers,
    workflows,
    executions,
    steps,
    triggers,
    editors,
)


def create_app(settings: Settings, *, database_url: str) -> FastAPI:
    # Built before serving, so that a malformed RUNLOOM_SECRETS_KEY stops the start.
    vault = Vault.from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.runloom_log_format)  # after uvicorn set up its loggers
        pool = await create_pool(database_url, max_size=settings.runloom_db_pool_size)
        await namespaces.publish_policy(pool, settings)  # new projects' namespaces follow it
        temporal = TemporalConnection(settings)
        compiler = compile_pool.CompilePool(compile_pool.PoolLimits.from_settings(settings))
        compile_pool.install(compiler)
        live = LiveHub(
            database_url,
            per_user=settings.runloom_streams_per_user,
            per_process=settings.runloom_streams_per_process,
        )
        live.start()
        app.state.runloom = AppState(
            settings=settings,
            pool=pool,
            temporal=temporal,
            live=live,
            vault=vault,
            platform_queue=PlatformQueue(pool),
            step_sandbox=StepSandbox(
                settings, egress=platform_egress(settings, database_url=database_url)
            ),
        )
        try:
            yield
        finally:
            await live.close()
            await app.state.runloom.step_sandbox.close()
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
    observe_api(app)  # request ids (outside the size limit), and tracing when configured
    app.state.rate_limits = RateLimits(settings)
    install_error_handlers(app)
    for module in _ROUTERS:
        app.include_router(module.router, prefix="/api")
    app.include_router(hooks.router)
    metrics.mount(app)
    mount_ui(app)
    return app
