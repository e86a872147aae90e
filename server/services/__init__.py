"""Service functions: the verbs of the EHR core. They take a session, an actor and a time,
know nothing of HTTP, and commit their own unit of work."""
