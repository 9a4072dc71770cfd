"""FastAPI dependencies, as `Annotated` aliases routes declare in their signatures."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from runloom.api.state import AppState
from runloom.db.pool import Pool
from runloom.settings import Settings
from runloom.temporal.connection import TemporalConnection


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.runloom
    return state


def get_pool(state: Annotated[AppState, Depends(get_state)]) -> Pool:
    return state.pool


def get_temporal(state: Annotated[AppState, Depends(get_state)]) -> TemporalConnection:
    return state.temporal


def get_app_settings(state: Annotated[AppState, Depends(get_state)]) -> Settings:
    return state.settings


StateDep = Annotated[AppState, Depends(get_state)]
PoolDep = Annotated[Pool, Depends(get_pool)]
TemporalDep = Annotated[TemporalConnection, Depends(get_temporal)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
