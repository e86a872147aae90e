"""Every console route, who may open it and what it must audit: the role x route matrix.

A new console page adds one ``ConsoleRoute`` here; ``test_route_matrix.py`` then checks it
for every role of the test agency (allowed: the page, and its audit event; refused: 403
without patient data; signed out: the login page; POST without a CSRF token: refused with
nothing changed), and fails when a console route is missing from the list.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from server.extensions import db
from server.models import ModuleStatus, TrainingModule

# The test agency's members who sign in (tests.factories.build_agency).
# The privacy officer is added by the matrix's fixture (tests.factories.add_privacy_officer).
ROLES = ("admin", "coordinator", "training_lead", "qc", "nurse_a", "physician_a",
         "privacy_officer")
EVERYONE = frozenset(ROLES)
OFFICE = frozenset({"admin", "coordinator"})
BOARD = frozenset({"admin", "coordinator", "qc"})
# The API's review roles (server.api.review.REVIEWERS).
REVIEWERS = frozenset({"admin", "coordinator", "qc"})
PATIENT_PAGES = BOARD
DIRECTORY = frozenset({"admin", "coordinator", "training_lead"})
# Text only a page showing the test agency's patients contains (their surnames).
PATIENT_TEXT = ("PatientMRN-A", "PatientMRN-B")
ADMIN = frozenset({"admin"})
# The agency enrolls no device: a refused POST (no token, wrong role) never looks it up.
NO_DEVICE = "00000000-0000-4000-8000-00000000d001"
TRAINING = frozenset({"admin", "training_lead"})
TRAINING_READERS = frozenset({"admin", "training_lead", "coordinator", "qc"})
NURSE = frozenset({"nurse_a"})
PHYSICIAN = frozenset({"physician_a"})
PRIVACY = frozenset({"privacy_officer"})
# A refused mark-read (no token, wrong role) never looks its notification up.
NO_NOTIFICATION = "00000000-0000-4000-8000-00000000e001"


def _draft_module(app: Flask, agency: Any) -> uuid.UUID:
    """A draft training module (the test agency has none)."""
    with app.app_context():
        module = TrainingModule(lineage_id=uuid.uuid4(), status=ModuleStatus.DRAFT,
                                title="PICC dressing change", created_by=agency["admin"])
        db.session.add(module)
        db.session.commit()
        return module.id


# Ids a route needs beyond the agency's: the name in braces, and what makes the record.
EXTRA_IDS: dict[str, Callable[[Flask, Any], uuid.UUID]] = {"module": _draft_module}


@dataclass(frozen=True)
class ConsoleRoute:
    """One console URL and method, with the agency's ids in braces (``{visit_a}``).

    ``rule`` is the Flask rule it exercises, to prove every rule is covered; ``audit`` the
    (action, entity_type) of the event an allowed GET writes when it shows patient data;
    ``form`` the fields an allowed POST sends (without its CSRF token, in the matrix).
    """

    rule: str
    path: str
    roles: frozenset[str]
    method: str = "GET"
    audit: tuple[str, str] | None = None
    form: dict[str, str] = field(default_factory=dict)
    public: bool = False


ROUTES: tuple[ConsoleRoute, ...] = (
    ConsoleRoute("/console/login", "/console/login", EVERYONE, public=True),
    ConsoleRoute("/console/login", "/console/login", EVERYONE, "POST", public=True,
                 form={"email": "coord@agency.test", "password": "x"}),
    ConsoleRoute("/console/login/code", "/console/login/code", EVERYONE, public=True),
    ConsoleRoute("/console/login/code", "/console/login/code", EVERYONE, "POST", public=True,
                 form={"code": "123456"}),
    ConsoleRoute("/console/login/enroll", "/console/login/enroll", EVERYONE, public=True),
    ConsoleRoute("/console/login/enroll", "/console/login/enroll", EVERYONE, "POST",
                 public=True),
    ConsoleRoute("/console/login/enroll/confirm", "/console/login/enroll/confirm", EVERYONE,
                 "POST", public=True, form={"code": "123456"}),
    ConsoleRoute("/console/logout", "/console/logout", EVERYONE, "POST"),
    ConsoleRoute("/console/", "/console/", EVERYONE),
    ConsoleRoute("/console/account", "/console/account", EVERYONE),
    ConsoleRoute("/console/account/password", "/console/account/password", EVERYONE, "POST",
                 form={"current_password": "x", "new_password": "a long enough password",
                       "new_password_again": "a long enough password"}),
    ConsoleRoute("/console/account/mfa", "/console/account/mfa", EVERYONE, "POST",
                 form={"mfa_password": "x"}),
    ConsoleRoute("/console/account/mfa/confirm", "/console/account/mfa/confirm", EVERYONE,
                 "POST", form={"code": "123456"}),
    ConsoleRoute("/console/account/mfa/recovery-codes", "/console/account/mfa/recovery-codes",
                 EVERYONE, "POST", form={"codes_code": "123456"}),
    ConsoleRoute("/console/account/mfa/off", "/console/account/mfa/off", EVERYONE, "POST",
                 form={"off_code": "123456"}),
    ConsoleRoute("/console/my-week", "/console/my-week", NURSE, audit=("list", "visits")),
    ConsoleRoute("/console/my-patients", "/console/my-patients", PHYSICIAN,
                 audit=("list", "patients")),
    ConsoleRoute("/console/notifications/<uuid:notification_id>/read",
                 f"/console/notifications/{NO_NOTIFICATION}/read", PHYSICIAN, "POST"),
    ConsoleRoute("/console/board", "/console/board", BOARD, audit=("list", "visits")),
    ConsoleRoute("/console/board/lanes", "/console/board/lanes", BOARD,
                 audit=("list", "visits")),
    ConsoleRoute("/console/board/stamp", "/console/board/stamp", BOARD),
    ConsoleRoute("/console/visits/<uuid:visit_id>", "/console/visits/{visit_a}", BOARD,
                 audit=("read", "visits")),
    ConsoleRoute("/console/visits/<uuid:visit_id>/assign", "/console/visits/{visit_a}/assign",
                 OFFICE, "POST", form={"nurse_id": "{nurse_b}", "version": "1"}),
    ConsoleRoute("/console/visits/<uuid:visit_id>/unassign",
                 "/console/visits/{visit_a}/unassign", OFFICE, "POST", form={"version": "1"}),
    ConsoleRoute("/console/visits/<uuid:visit_id>/cancel", "/console/visits/{visit_a}/cancel",
                 OFFICE, "POST", form={"cancel_reason": "patient in hospital", "version": "1"}),
    ConsoleRoute("/console/visits/<uuid:visit_id>/reschedule",
                 "/console/visits/{visit_a}/reschedule", OFFICE, "POST",
                 form={"day": "2026-11-24", "start": "09:00", "end": "10:00", "version": "1"}),
    ConsoleRoute("/console/audit", "/console/audit", PRIVACY,
                 audit=("audit_read", "audit_events")),
    ConsoleRoute("/console/audit.csv", "/console/audit.csv", PRIVACY,
                 audit=("audit_read", "audit_events")),
    ConsoleRoute("/console/review", "/console/review", REVIEWERS,
                 audit=("list", "review_items")),
    ConsoleRoute("/console/review/<uuid:item_id>", "/console/review/{review_a}", REVIEWERS,
                 audit=("read", "review_items")),
    ConsoleRoute("/console/review/<uuid:item_id>/resolve", "/console/review/{review_a}/resolve",
                 REVIEWERS, "POST", form={"resolution": "accept", "comment": "Checked."}),
    ConsoleRoute("/console/review/<uuid:item_id>/acknowledge",
                 "/console/review/{review_a}/acknowledge", REVIEWERS, "POST"),
    ConsoleRoute("/console/admin/users", "/console/admin/users", ADMIN,
                 audit=("list", "users")),
    ConsoleRoute("/console/admin/users", "/console/admin/users", ADMIN, "POST",
                 form={"name": "New Nurse", "email": "new@agency.test", "role": "nurse",
                       "password": "a long enough password"}),
    ConsoleRoute("/console/admin/users/<uuid:user_id>", "/console/admin/users/{nurse_a}",
                 ADMIN),
    ConsoleRoute("/console/admin/users/<uuid:user_id>", "/console/admin/users/{nurse_a}",
                 ADMIN, "POST", form={"name": "Ann", "email": "ann@agency.test",
                                      "role": "nurse", "active": "no", "version": "1"}),
    ConsoleRoute("/console/admin/users/<uuid:user_id>/password",
                 "/console/admin/users/{nurse_a}/password", ADMIN, "POST",
                 form={"password": "another long password", "version": "1"}),
    ConsoleRoute("/console/admin/devices", "/console/admin/devices", ADMIN,
                 audit=("list", "devices")),
    ConsoleRoute("/console/admin/devices/codes", "/console/admin/devices/codes", ADMIN,
                 "POST", form={"user_id": "{nurse_a}"}),
    ConsoleRoute("/console/admin/devices/<uuid:device_id>/retire",
                 f"/console/admin/devices/{NO_DEVICE}/retire", ADMIN, "POST"),
    ConsoleRoute("/console/admin/devices/<uuid:device_id>/revoke",
                 f"/console/admin/devices/{NO_DEVICE}/revoke", ADMIN, "POST",
                 form={"confirm": "yes"}),
    ConsoleRoute("/console/admin/pumps", "/console/admin/pumps", ADMIN,
                 audit=("list", "pumps")),
    ConsoleRoute("/console/admin/pumps/<uuid:pump_id>", "/console/admin/pumps/{pump_a}",
                 ADMIN, "POST", form={"status": "out_of_service", "version": "1"}),
    ConsoleRoute("/console/admin/pumps/<uuid:pump_id>/recall",
                 "/console/admin/pumps/{pump_a}/recall", ADMIN, "POST", form={"version": "1"}),
    ConsoleRoute("/console/admin/jobs", "/console/admin/jobs", ADMIN),
    ConsoleRoute("/console/training", "/console/training", TRAINING),
    ConsoleRoute("/console/training", "/console/training", TRAINING, "POST",
                 form={"title": "Port access"}),
    ConsoleRoute("/console/training/<uuid:module_id>", "/console/training/{module}", TRAINING),
    ConsoleRoute("/console/training/<uuid:module_id>", "/console/training/{module}", TRAINING,
                 "POST", form={"title": "Renamed", "action": "save"}),
    ConsoleRoute("/console/training/<uuid:module_id>/attachments",
                 "/console/training/{module}/attachments", TRAINING, "POST",
                 form={"attachment_name": "Leaflet"}),
    ConsoleRoute("/console/training/<uuid:module_id>/publish",
                 "/console/training/{module}/publish", TRAINING, "POST"),
    ConsoleRoute("/console/training/<uuid:module_id>/versions",
                 "/console/training/{module}/versions", TRAINING, "POST"),
    ConsoleRoute("/console/training/<uuid:module_id>/retire",
                 "/console/training/{module}/retire", TRAINING, "POST"),
    ConsoleRoute("/console/training/matrix", "/console/training/matrix", TRAINING_READERS,
                 audit=("list", "training_statuses")),
    ConsoleRoute("/console/training/matrix.csv", "/console/training/matrix.csv",
                 TRAINING_READERS, audit=("list", "training_statuses")),
    ConsoleRoute("/console/patients", "/console/patients", PATIENT_PAGES,
                 audit=("list", "patients")),
    ConsoleRoute("/console/patients/<uuid:patient_id>", "/console/patients/{patient_a}",
                 PATIENT_PAGES, audit=("read", "patients")),
    ConsoleRoute("/console/patients/new", "/console/patients/new", OFFICE),
    ConsoleRoute("/console/patients/new", "/console/patients/new", OFFICE, "POST",
                 form={"mrn": "MRN-NEW", "first_name": "Nora", "last_name": "New",
                       "birth_date": "1970-01-02", "kind": "home", "address": "2 Oak St",
                       "latitude": "39.7", "longitude": "-89.6"}),
    ConsoleRoute("/console/patients/<uuid:patient_id>/edit",
                 "/console/patients/{patient_a}/edit", OFFICE, audit=("read", "patients")),
    ConsoleRoute("/console/patients/<uuid:patient_id>/edit",
                 "/console/patients/{patient_a}/edit", OFFICE, "POST",
                 form={"phone": "555-0100", "version": "1"}),
    ConsoleRoute("/console/patients/<uuid:patient_id>/locations/new",
                 "/console/patients/{patient_a}/locations/new", OFFICE,
                 audit=("read", "patients")),
    ConsoleRoute("/console/patients/<uuid:patient_id>/locations/new",
                 "/console/patients/{patient_a}/locations/new", OFFICE, "POST",
                 form={"kind": "work", "address": "9 Mill Rd", "latitude": "39.8",
                       "longitude": "-89.7", "version": "1"}),
    ConsoleRoute("/console/patients/<uuid:patient_id>/locations/<uuid:location_id>/edit",
                 "/console/patients/{patient_a}/locations/{location_a}/edit", OFFICE,
                 audit=("read", "patients")),
    ConsoleRoute("/console/patients/<uuid:patient_id>/locations/<uuid:location_id>/edit",
                 "/console/patients/{patient_a}/locations/{location_a}/edit", OFFICE, "POST",
                 form={"kind": "home", "address": "1 Elm St", "latitude": "39.78",
                       "longitude": "-89.65", "evv_radius_m": "200", "version": "1"}),
    ConsoleRoute("/console/patients/<uuid:patient_id>/orders/new",
                 "/console/patients/{patient_a}/orders/new", OFFICE,
                 audit=("read", "patients")),
    ConsoleRoute("/console/patients/<uuid:patient_id>/orders/new",
                 "/console/patients/{patient_a}/orders/new", OFFICE, "POST",
                 form={"physician_id": "{physician_a}", "medication": "cefazolin",
                       "dose": "1", "dose_unit": "g", "frequency_kind": "daily",
                       "start_date": "2026-11-20", "step": "preview"}),
    ConsoleRoute("/console/orders/<uuid:order_id>/edit", "/console/orders/{order_a}/edit",
                 OFFICE, audit=("read", "therapy_orders")),
    ConsoleRoute("/console/orders/<uuid:order_id>/edit", "/console/orders/{order_a}/edit",
                 OFFICE, "POST", form={"status": "on_hold", "version": "1", "step": "preview"}),
    ConsoleRoute("/console/staff", "/console/staff", DIRECTORY, audit=("list", "users")),
)
