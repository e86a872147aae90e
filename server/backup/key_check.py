"""Does this data key open this database's server keys? A restore without its keys says so.

A database restored without the key file of the instance that made it would start with a
freshly generated data key (development) and answer every push with a 500, as the server's
private keys no longer decrypt. Commands that touch the database check first and refuse in
words instead.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from server.models import ServerKey
from sync import at_rest

NO_KEYS = (
    "the data key does not open this database's server keys: this database was made by "
    "another instance (restored from a backup without its keys?). Restore its key file "
    "with `infusync restore --keys FILE` (written by `infusync backup`), or point "
    "INFUSYNC_DATA_KEY_FILE at that instance's data key"
)


def data_key_opens(connection: Connection, data_key: bytes) -> bool:
    """True when ``data_key`` decrypts a stored server key (or there is none yet)."""
    stored = connection.execute(
        select(ServerKey.key_id, ServerKey.private_key_sealed).limit(1)).first()
    if stored is None:
        return True
    try:
        at_rest.decrypt(data_key, stored.private_key_sealed, stored.key_id.encode())
    except at_rest.CannotDecrypt:
        return False
    return True
