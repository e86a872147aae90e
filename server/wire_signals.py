"""Signals the sync endpoints send with what they answer, before it is sealed or encoded.

A pull page sealed to a v1.1 device cannot be read on the way out; these signals carry the
plain push result and pull page to whoever listens (``server/wire_check.py``, the suite).
With no receiver connected, sending one costs next to nothing.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# sender: the app; ``body``: the push result as it is answered (a dict).
push_answered = _signals.signal("infusync-push-answered")
# sender: the app; ``page``: the pull page's JSON bytes, before sealing and gzip.
pull_answered = _signals.signal("infusync-pull-answered")
