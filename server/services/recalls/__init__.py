"""Recall and pump traceability (issue 11, item 1): a withdrawn pump reaches its patients.

When a pump becomes ``recalled`` or ``out_of_service`` — a PATCH, the CLI, or a recall list
imported as CSV — every patient it served in the last ``WINDOW`` gets a critical review
item listing the evidence, and the nurses who used it or will visit those patients get a
notification in their next pull.

- ``evidence.py`` — whom the pump served: its assignee now, its assignments and the
  infusions documented with its serial in the window (ids and times only).
- ``withdraw.py`` — a status change becomes a ``PumpRecall`` event; ``trace.py`` turns
  the event into review items, notifications and an audit event.
- ``recall_list.py`` — the CSV recall list, parsed into rows or refused with line numbers;
  ``imports.py`` resolves the rows to pumps and withdraws them, all or nothing.
"""
