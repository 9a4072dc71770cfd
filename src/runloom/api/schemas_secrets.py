"""Request bodies and response envelopes of the project secrets routes."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from runloom.models import SecretInfo
from runloom.naming import SECRET_NAME_PATTERN
from runloom.store.secrets import MAX_VALUE_BYTES, NAME_RULE

_NAME = re.compile(SECRET_NAME_PATTERN)


def _secret_name(value: str) -> str:
    if not _NAME.match(value):
        raise ValueError(NAME_RULE)
    return value


SecretName = Annotated[
    str,
    Path(
        description=NAME_RULE,
        examples=["API_TOKEN"],
        json_schema_extra={"pattern": SECRET_NAME_PATTERN},
    ),
    AfterValidator(_secret_name),
]


class SecretPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # SecretStr keeps the value out of reprs and logs; its size is checked by the store,
    # whose errors give sizes only (pydantic's constraint errors would echo the value).
    value: SecretStr = Field(
        description=f"The value: 1 byte to {MAX_VALUE_BYTES // 1024} KiB of UTF-8 text; "
        "stored encrypted and never shown again"
    )


class SecretEnvelope(BaseModel):
    secret: SecretInfo


class SecretList(BaseModel):
    secrets: list[SecretInfo]
