"""MLTE 2.7 adapter: the client, its pure normalizers, its error table and an emulator of the REST API.

The client is ``adapters.mlte.client.MLTEClient``; records live in ``adapters.records.mlte``.
"""

from adapters.mlte.client import ArtifactKey, MLTEClient, path_segment

__all__ = ["ArtifactKey", "MLTEClient", "path_segment"]
