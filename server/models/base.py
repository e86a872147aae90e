"""The declarative base and shared column types live in ``sync.orm`` (the lower layer)."""

from sync.orm import (
    Base,
    Timestamps,
    UTCDateTime,
    UUIDPrimaryKey,
    str_enum,
    utcnow,
)

__all__ = ["Base", "Timestamps", "UTCDateTime", "UUIDPrimaryKey", "str_enum", "utcnow"]
