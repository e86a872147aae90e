"""The first page of a signed-in nurse or physician: what is hers, gathered from the
services the API calls (the same scope rules, the same audit events).

- ``nurse`` — her visits today and the next 7 days, her devices, her training due.
- ``physician`` — his patients (the treating-physician scope), their active orders and
  latest visit with its NEWS2 score, and his inbox.
"""
