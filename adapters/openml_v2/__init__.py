"""OpenML v2 ("server-api", typed JSON + RFC 9457 problems): client, normalizers, errors and an emulator.

The client mirrors ``OpenMLV1Client``'s method names and signatures for everything v2 serves, and the
normalizers produce the same records, so the schema can pick v1 or v2 per resource by a setting.
Nothing here imports ``adapters.openml_v1`` except the emulator, which shares v1's seeded test data.
"""

__all__: list[str] = []
