"""Staff accounts (admin only)."""

from __future__ import annotations

from schemas.users import UserCreateSchema, UserQuerySchema, UserUpdateSchema
from server.api.blueprint import Blueprint
from server.api.resource import Resource, register_crud
from server.models import Role
from server.services import users

blp = Blueprint("users", __name__, url_prefix="/users", description="Staff accounts (admin)")

register_crud(blp, Resource(
    noun="user",
    schema=UserCreateSchema,
    update_schema=UserUpdateSchema,
    query_schema=UserQuerySchema,
    create=users.create_user,
    list=users.list_users,
    get=users.get_user,
    update=users.update_user,
    readers=(Role.ADMIN,),
    writers=(Role.ADMIN,),
    create_refusals=(409,),  # a unique key (e-mail, MRN, serial) already taken
))
