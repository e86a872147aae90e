"""The admin's console pages: staff accounts, devices, the pump registry, job runs.

Each module calls the services the API's /users, /devices, /pumps and /jobs call (same
rules, audit events and refusals); nothing here decides anything the API would not.
"""
