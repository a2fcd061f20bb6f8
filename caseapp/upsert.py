"""What an upsert service did: the shop's systems send the same data again and again, and say so is cheap."""

from enum import StrEnum


class Outcome(StrEnum):
    CREATED = "created"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
