"""The static vocabulary of the demo agency that ``infusync seed-demo`` builds.

Every person here is invented. Patient surnames are deliberately implausible so nobody
mistakes a demo record for a real one; phone numbers use the 555-01xx range reserved for
fiction, and e-mail addresses the reserved ``.test`` domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from server.models import AccessDeviceType, FrequencyKind, Role

# Demo accounts share one published password; that is acceptable only for demo data.
DEMO_PASSWORD = "infusync-demo-only"  # noqa: S105 - a published demo password, by design
EMAIL_DOMAIN = "demo.infusync.test"
ADMIN_EMAIL = f"admin@{EMAIL_DOMAIN}"
PRIVACY_EMAIL = f"privacy@{EMAIL_DOMAIN}"
# Admins and the privacy officer must log in with a second factor (TOTP). The demo accounts'
# secret is published with the password, so that ``make run`` can be tried at once: demo
# only, like the password.
ADMIN_TOTP_SECRET = "DEMOINFUSYNCADMINTOTPSECRETONLY2"  # noqa: S105 - published, demo only
# Where ``infusync serve`` listens by default; ``make run`` passes its HOST and PORT instead.
SERVER_URL = "http://127.0.0.1:8000"

# One metro area (Columbus, Ohio): visits are planned in its local time, stored in UTC.
TIMEZONE = ZoneInfo("America/New_York")
METRO_CENTER = (39.9612, -82.9988)
HOME_SPREAD_DEGREES = (0.12, 0.15)
WORK_SPREAD_DEGREES = (0.02, 0.025)
CITY = "Columbus, OH"
ZIP_CODES = ("43201", "43202", "43204", "43206", "43209", "43211", "43214", "43215")


@dataclass(frozen=True)
class StaffMember:
    """A demo account: login e-mail, display name, role and nurse competencies."""

    email: str
    name: str
    role: Role
    competencies: tuple[str, ...] = ()


def _staff(local: str, name: str, role: Role, *competencies: str) -> StaffMember:
    return StaffMember(f"{local}@{EMAIL_DOMAIN}", name, role, competencies)


# Each required competency (tpn, ivig, inotropes) is held by three nurses so no one is
# the single point of failure for a therapy.
STAFF: tuple[StaffMember, ...] = (
    StaffMember(ADMIN_EMAIL, "Avery Admin (demo)", Role.ADMIN),
    _staff("coordinator1", "Casey Coordinator (demo)", Role.COORDINATOR),
    _staff("coordinator2", "Corey Scheduler (demo)", Role.COORDINATOR),
    _staff("training", "Taylor Trainer (demo)", Role.TRAINING_LEAD),
    _staff("qc", "Quinn Quality (demo)", Role.QC),
    _staff("nurse1", "Nora Nightingale (demo)", Role.NURSE,
           "picc-care", "tpn", "pump-programming"),
    _staff("nurse2", "Nadia Needleman (demo)", Role.NURSE, "port-access", "ivig", "chemotherapy"),
    _staff("nurse3", "Noel Hartwell (demo)", Role.NURSE,
           "inotropes", "pump-programming", "picc-care"),
    _staff("nurse4", "Nia Broviac (demo)", Role.NURSE, "tpn", "pediatrics"),
    _staff("nurse5", "Ned Groshong (demo)", Role.NURSE, "ivig", "port-access", "picc-care"),
    _staff("nurse6", "Nell Cardiff (demo)", Role.NURSE, "inotropes", "tpn", "pump-programming"),
    _staff("nurse7", "Nico Littlefield (demo)", Role.NURSE, "pediatrics", "picc-care"),
    _staff("nurse8", "Nova Ambler (demo)", Role.NURSE,
           "chemotherapy", "ivig", "inotropes", "port-access"),
    _staff("dr.paxton", "Dr. Pat Paxton (demo)", Role.PHYSICIAN),
    _staff("dr.rivera", "Dr. Robin Rivera-Example (demo)", Role.PHYSICIAN),
    _staff("dr.okafor", "Dr. Sam Okafor-Sample (demo)", Role.PHYSICIAN),
    StaffMember(PRIVACY_EMAIL, "Pat Privacy (demo)", Role.PRIVACY_OFFICER),
)
# The demo accounts that log in with a second factor, enrolled with ADMIN_TOTP_SECRET.
SECOND_FACTOR_EMAILS = (ADMIN_EMAIL, PRIVACY_EMAIL)

PATIENT_FIRST_NAMES = (
    "Ada", "Basil", "Clementine", "Dorian", "Esme", "Felix", "Greta", "Hugo", "Iris", "Jasper",
    "Kit", "Lorna", "Milo", "Nell", "Otto", "Pearl", "Quentin", "Rosa", "Silas", "Tilda",
)
PATIENT_LAST_NAMES = (
    "Fictionwood", "Samplesworth", "Testington", "Mockridge", "Placeholder", "Dummyfield",
    "Notrealsson", "Pretendergast", "Imaginaire", "Makebelieve", "Figmentson", "Hypothetica",
)
ALLERGIES = ("penicillin", "sulfonamides", "latex", "iodinated contrast", "cephalexin")
REFERRAL_SOURCES = (
    "Demo General Hospital discharge planning", "Riverbend Demo Clinic",
    "Lakeside Example Infectious Disease", "Oakview Sample Cardiology",
)
STREETS = (
    "Sample", "Example", "Demo", "Fictional", "Placeholder", "Mockingbird", "Lorem", "Ipsum",
)
STREET_SUFFIXES = ("St", "Ave", "Rd", "Ln", "Ct", "Blvd")
EMPLOYERS = ("Example Insurance Co.", "Demo Logistics", "Sample Savings Bank",
             "Placeholder Press", "Fictional Foods")


@dataclass(frozen=True)
class Therapy:
    """An order template: what is given, how often, and who may give it."""

    key: str
    medication: str
    dose: str
    dose_unit: str
    rate_ml_h: str | None
    volume_ml: str | None
    frequency_kind: FrequencyKind
    frequency_interval: int
    patients: int
    access_types: tuple[AccessDeviceType, ...]
    visit_minutes: int = 60
    pump_required: bool = False
    required_competency: str | None = None
    course_days: tuple[int, int] | None = None
    first_dose_hours: tuple[int, ...] = (8, 9, 10, 14, 15, 16)


PICC, PORT, MIDLINE, PIV = (AccessDeviceType.PICC, AccessDeviceType.PORT,
                            AccessDeviceType.MIDLINE, AccessDeviceType.PIV)

# Patient counts sum to the 60 demo patients. Antibiotics run a course and stop; the others
# are open-ended. Milrinone is a continuous infusion: the "daily" dose is the 24-hour bag.
THERAPIES: tuple[Therapy, ...] = (
    Therapy("ceftriaxone", "ceftriaxone", "2", "g", "100", "50",
            FrequencyKind.EVERY_N_HOURS, 24, 10, (PICC, MIDLINE), course_days=(14, 42)),
    Therapy("vancomycin", "vancomycin", "1.25", "g", "167", "250",
            FrequencyKind.EVERY_N_HOURS, 12, 6, (PICC, MIDLINE), visit_minutes=90,
            course_days=(21, 42), first_dose_hours=(7, 8, 9)),
    Therapy("hydration", "sodium chloride 0.9%", "1000", "mL", "250", "1000",
            FrequencyKind.DAILY, 1, 8, (PIV, MIDLINE)),
    Therapy("tpn", "parenteral nutrition (2-in-1) with lipids", "1", "bag", "150", "1800",
            FrequencyKind.DAILY, 1, 10, (PICC, PORT), pump_required=True,
            required_competency="tpn", first_dose_hours=(13, 14, 15, 16, 17, 18)),
    Therapy("ivig", "immune globulin 10% (IVIG)", "0.4", "g/kg", "120", "280",
            FrequencyKind.EVERY_N_DAYS, 28, 18, (PIV, PORT), visit_minutes=240,
            required_competency="ivig", first_dose_hours=(9, 10, 11)),
    Therapy("milrinone", "milrinone (continuous)", "0.375", "mcg/kg/min", "5", "120",
            FrequencyKind.DAILY, 1, 8, (PICC,), pump_required=True,
            required_competency="inotropes"),
)


@dataclass(frozen=True)
class PumpModel:
    """A pump model in the fleet, with its (fictional, check-digit-valid) UDI-DI."""

    manufacturer: str
    model: str
    serial_prefix: str
    udi_di: str


PUMP_MODELS: tuple[PumpModel, ...] = (
    PumpModel("ICU Medical", "CADD-Solis", "CS", "00855555000100"),
    PumpModel("ICU Medical", "CADD-Solis VIP", "CV", "00855555000278"),
    PumpModel("Moog", "CURLIN 6000 CMS", "MC", "00855555000346"),
    PumpModel("Eitan Medical", "Sapphire", "ES", "00855555000414"),
    PumpModel("Baxter", "Novum IQ", "BN", "00855555000582"),
)
PUMP_COUNT = 40
PUMPS_PM_OVERDUE = 3
PUMPS_PM_DUE_THIS_WEEK = 2
PUMPS_OUT_OF_SERVICE = 1

# One published refresher for the nurses who hold picc-care (see ``server/cli/seed_training``).
TRAINING_MODULE: dict[str, object] = {
    "title": "PICC line care refresher (demo)",
    "summary": "Flushing, dressing changes and the signs of phlebitis.",
    "body_md": ("# PICC line care\n\n- Flush with 10 mL saline before and after each use "
                "(push-pause).\n- Change the transparent dressing every 7 days, or sooner "
                "when it is loose or soiled.\n- Measure the external length at every "
                "dressing change.\n"),
    "quiz": {"pass_mark_percent": 80, "questions": [
        {"id": "q1", "text": "Flush a PICC before and after each use?", "kind": "single",
         "options": [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}],
         "correct": ["yes"]},
        {"id": "q2", "text": "Which are signs of phlebitis?", "kind": "multiple",
         "options": [{"id": "red", "text": "Redness along the vein"},
                     {"id": "warm", "text": "Warmth"}, {"id": "cold", "text": "Cold fingers"}],
         "correct": ["red", "warm"]},
    ]},
    "competency": "picc-care",
    "audience": {"competencies": ["picc-care"]},
    "due_rule": {"kind": "after_publication", "days": 30},
    "required": True,
}
