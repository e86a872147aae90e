"""Benchmarks: push throughput against a real server, pull latency, the device store.

``python -m bench`` (``make bench``) runs everything at full size; ``--quick``
(``make bench-quick``) runs smaller sizes in under a minute. Results go to
``bench/results/`` as JSON and a Markdown table; the JSON summary is the last line printed.
"""
