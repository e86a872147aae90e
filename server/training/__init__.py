"""Training: modules a lead publishes, nurses take offline, and eligibility depends on.

One package so the whole capability reads in one place, whichever layer calls it:

- ``rules`` — audience membership, due dates, scoring, the quiz without answers. No
  session, no configuration: pure functions the other modules share.
- ``modules`` — the lead's verbs: drafts, edits, new versions, publish, retire, assets.
- ``standing`` — keeps each nurse's ``TrainingStatus`` true (eligibility reads it).
- ``daily`` — the ``training_daily`` job body: statuses, overdue marks, reminders.
- ``completion`` — the ``training.complete`` sync handler (registered in
  ``server.reconcile.HANDLERS``): scores an offline attempt and moves her status.
- ``fanout`` — feed mentions for training, called from ``server.feed_fanout``'s hook.
- ``delivery`` — what a nurse's devices receive at pull time, and her attachments.
- ``report`` — the status report and its CSV.

The agency zone and the reminder lead time are given by the callers (views, the job), not
read from the app; ``completion.complete`` is the one exception left, until the push hands
its handlers the zone.
"""
