"""pytupli adapter: a client for pytupli's REST API (benchmarks, episodes, artifacts) and an emulator of it."""

from adapters.pytupli.client import KINDS, Kind, PytupliClient

__all__ = ["KINDS", "Kind", "PytupliClient"]
