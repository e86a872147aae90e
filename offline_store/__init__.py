"""The device side of infusync sync protocol v1: encrypted store, outbox, sync client, CLI.

Imports only ``sync``, ``schemas``, the standard library and ``cryptography``; the Kotlin
and Swift clients are meant to read this package as the reference behaviour.
"""
