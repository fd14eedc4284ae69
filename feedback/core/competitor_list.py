"""The configured competitor list (``[[competitors]]`` in feedback.toml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Competitor(BaseModel):
    """A competitor's canonical name and the aliases reps use for it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
