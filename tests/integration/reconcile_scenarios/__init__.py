"""Reconciliation scenarios: real device clients and whole agencies, end to end in-process."""
