"""Command line: ``infusync`` (a Flask CLI group bound to ``server.create_app``)."""
