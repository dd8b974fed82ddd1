"""vantage6 4.15 adapter: REST client, pure normalizers, error table and an emulator of the wire format.

``Vantage6Client`` (client.py) is the gateway's entry point; ``Vantage6Admin`` (admin.py) adds the
administrator and node calls that seeding and tests need. Records live in ``adapters.records.vantage6``.
"""
