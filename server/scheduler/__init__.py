"""Scheduled jobs and the one process that runs them (``infusync scheduler``).

Web workers never import the scheduler: APScheduler 3 cannot share its job store between
processes, so exactly one process holds the lease (``lease.py``) and runs the jobs.
"""
