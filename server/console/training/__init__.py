"""The training lead's console pages: modules by state, the editor (with its quiz builder),
publish, new version, retire, and the standing matrix with its CSV.

They call ``server.training`` as ``/api/v1/training`` does: the same rules, audit events
and refusals.
"""
