"""Public conformance kit for backend authors (see :mod:`remotejobs.testing.contract`)."""

from remotejobs.testing.contract import HOSTILE_STRINGS, ContractEnv, ResourceContract

__all__ = ["HOSTILE_STRINGS", "ContractEnv", "ResourceContract"]
