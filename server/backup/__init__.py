"""Backups that lose nothing: the database copied while the server writes, the keys apart.

``sqlite_online.py`` copies an SQLite database with SQLite's online backup API;
``key_file.py`` writes the keys (data key, secret key) into a file encrypted with a
passphrase; ``key_check.py`` tells whether a data key opens a database's server keys (a
restore without its keys says so in plain words); ``restore.py`` puts a backup and its
keys into a new instance. PostgreSQL is backed up with ``pg_dump`` (docs/operations.md).
"""
