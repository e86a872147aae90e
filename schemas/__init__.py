"""The wire contract: marshmallow schemas for the REST API and the sync mutations."""
