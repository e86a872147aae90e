"""Staff accounts: admins manage them; coordinators and the training lead read them.

Coordinators need a colleague's id to assign a visit and the training lead to follow a
nurse's training; the record read carries no password or second-factor field (the
password is load-only, the credential lives in its own table).
"""

from __future__ import annotations

from schemas.users import UserCreateSchema, UserQuerySchema, UserUpdateSchema
from server.api.blueprint import Blueprint
from server.api.resource import Resource, register_crud
from server.models import Role
from server.services import users

blp = Blueprint("users", __name__, url_prefix="/users",
                description="Staff accounts (admins write; coordinators and the training lead "
                            "read)")

register_crud(blp, Resource(
    noun="user",
    schema=UserCreateSchema,
    update_schema=UserUpdateSchema,
    query_schema=UserQuerySchema,
    create=users.create_user,
    list=users.list_users,
    get=users.get_user,
    update=users.update_user,
    readers=(Role.ADMIN, Role.COORDINATOR, Role.TRAINING_LEAD),
    writers=(Role.ADMIN,),
    create_refusals=(409,),  # a unique key (e-mail, MRN, serial) already taken
))
