"""The registry: department feeds, read through declarative specs, into one register."""

__all__: list[str] = []
