"""A second factor for staff: TOTP (RFC 6238) with one-time recovery codes.

- ``settings`` — who must use it and the limits (``MfaSettings``, built by the API).
- ``credentials`` — the TOTP secret sealed under the data key, code checks (replay
  refused), recovery codes.
- ``challenges`` — the mfa_token of a login held at the second factor: short-lived,
  single-use, stored as its SHA-256, dead after too many wrong codes.
- ``login`` — the gate ``sessions.login`` calls after the password, finishing a held
  login, and enrollment (at first login, or voluntarily from a session).
- ``reset`` — an admin (or the CLI) removes a user's second factor.
"""
