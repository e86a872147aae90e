"""Every console route, who may open it and what it must audit: the role x route matrix.

A new console page adds one ``ConsoleRoute`` here; ``test_route_matrix.py`` then checks it
for every role of the test agency (allowed: the page, and its audit event; refused: 403
without patient data; signed out: the login page; POST without a CSRF token: refused with
nothing changed), and fails when a console route is missing from the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The test agency's members who sign in (tests.factories.build_agency).
ROLES = ("admin", "coordinator", "training_lead", "qc", "nurse_a", "physician_a")
EVERYONE = frozenset(ROLES)
OFFICE = frozenset({"admin", "coordinator"})
BOARD = frozenset({"admin", "coordinator", "qc"})
# The API's review roles (server.api.review.REVIEWERS).
REVIEWERS = frozenset({"admin", "coordinator", "qc"})
PATIENT_PAGES = BOARD
DIRECTORY = frozenset({"admin", "coordinator", "training_lead"})
# Text only a page showing the test agency's patients contains (their surnames).
PATIENT_TEXT = ("PatientMRN-A", "PatientMRN-B")


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
    ConsoleRoute("/console/review", "/console/review", REVIEWERS,
                 audit=("list", "review_items")),
    ConsoleRoute("/console/review/<uuid:item_id>", "/console/review/{review_a}", REVIEWERS,
                 audit=("read", "review_items")),
    ConsoleRoute("/console/review/<uuid:item_id>/resolve", "/console/review/{review_a}/resolve",
                 REVIEWERS, "POST", form={"resolution": "accept", "comment": "Checked."}),
    ConsoleRoute("/console/review/<uuid:item_id>/acknowledge",
                 "/console/review/{review_a}/acknowledge", REVIEWERS, "POST"),
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
