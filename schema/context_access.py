"""Typed access to the per-request context from resolvers (the only way resolvers reach loaders)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry

if TYPE_CHECKING:
    from schema.loaders import OpenMLLoaders

__all__ = ["openml"]


def openml(info: strawberry.Info) -> OpenMLLoaders:
    """Return this request's OpenML loaders."""
    return info.context.loaders.openml
