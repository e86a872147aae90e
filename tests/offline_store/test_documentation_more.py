"""Infusions, notes, signature, missed visits and amendments: the wire mutations the outbox
holds, the records the device keeps, and the CLI's refusals of what the server would refuse.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from offline_store.amendments import ChangeError, parse_changes
from offline_store.cli import main
from offline_store.documentation import (
    LOCAL_DOCUMENT,
    InvalidDocumentation,
    Vitals,
    add_note,
    amend_record,
    parse_clinical_time,
    prune_local_documents,
    record_infusion,
    record_vitals,
    report_missed,
    sign_visit,
)
from offline_store.errors import UnknownVisit
from offline_store.infusion import AdverseReaction, Infusion, PumpUse, VascularAccessUse
from offline_store.outbox import Outbox
from offline_store.store import Store
from tests.offline_store.conftest import EASTERN, FAST_N, PIN, SERVER_URL, DeviceClock
from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_pull import page, remove, upsert

VISIT = "0b5c8e0e-8a1d-4c55-9a36-0d7f1d3f2c11"
ORDER = "6a0f4c8e-1b2d-4e3f-8a9b-0c1d2e3f4a5b"
Run = Callable[..., tuple[int, str, str]]

# A review item id as the server makes them (a UUID).
ITEM = "0193a3b4-0000-7000-8000-0000000000a1"


def infusion(**changes: Any) -> Infusion:
    values: dict[str, Any] = {
        "order_id": ORDER, "medication": "ceftriaxone", "dose": 2, "dose_unit": "g",
        "route": "IV", "lot_number": "L123", "lot_expiry": date(2027, 5, 31),
        "access": VascularAccessUse("picc", "left basilic", 0, 0),
        "started_at": datetime(2026, 11, 23, 8, 10, tzinfo=EASTERN),
        "stopped_at": datetime(2026, 11, 23, 8, 40, tzinfo=EASTERN)}
    return Infusion(**{**values, **changes})


@pytest.fixture
def visit(store: Store) -> str:
    store.put("visit", VISIT, {"patient_id": "p1", "status": "scheduled"}, version=4,
              synced=True)
    return VISIT


# --- the documentation functions ------------------------------------------------------------


def test_an_infusion_is_one_mutation_about_a_new_record_of_the_visit(
        store: Store, visit: str) -> None:
    mutation = record_infusion(store, visit, infusion(
        pump=PumpUse("PMP-1", 100, 100), volume_infused_ml=100,
        adverse_reaction=AdverseReaction("rash", "stopped infusion"), notes="tolerated"))
    assert mutation.type == "infusion.record"
    assert mutation.visit_id == visit and mutation.entity_id != visit
    assert uuid.UUID(mutation.entity_id)
    assert mutation.base_version == 4
    assert mutation.occurred_at == "2026-11-23T08:10:00-05:00"
    assert mutation.data == {
        "order_id": ORDER, "medication": "ceftriaxone", "dose": 2, "dose_unit": "g",
        "route": "IV", "lot_number": "L123", "lot_expiry": "2027-05-31",
        "access": {"device_type": "picc", "site": "left basilic", "flushed_before": True,
                   "flushed_after": True,
                   "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}},
        "pump": {"serial": "PMP-1", "programmed_rate_ml_h": 100, "vtbi_ml": 100},
        "started_at": "2026-11-23T08:10:00-05:00", "stopped_at": "2026-11-23T08:40:00-05:00",
        "volume_infused_ml": 100,
        "adverse_reaction": {"occurred": True, "description": "rash",
                             "actions_taken": "stopped infusion"},
        "notes": "tolerated"}
    assert [m.to_wire() for m in Outbox(store).pending()] == [mutation.to_wire()]


def test_an_infusion_without_pump_or_reaction_sends_nulls(store: Store, visit: str) -> None:
    data = record_infusion(store, visit, infusion()).data
    assert (data["pump"], data["adverse_reaction"], data["volume_infused_ml"]) == (
        None, None, None)


def test_note_sign_and_missed_carry_their_data_and_entities(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    note = add_note(store, visit, "teaching", "Taught line care.", device_clock())
    signed = sign_visit(store, visit, device_clock())
    missed = report_missed(store, visit, "patient_not_home", device_clock(), "no answer")
    assert (note.type, note.visit_id, note.base_version) == ("visit.note", visit, 4)
    assert note.entity_id != visit and note.data == {"category": "teaching",
                                                     "text": "Taught line care."}
    assert (signed.type, signed.entity_id, signed.visit_id) == ("visit.sign", visit, visit)
    assert signed.data == {"at": "2026-11-23T08:00:00-05:00",
                           "attestation": "I attest that this documentation is accurate."}
    assert (missed.type, missed.entity_id, missed.base_version) == ("visit.missed", visit, 4)
    assert missed.data == {"at": "2026-11-23T08:00:00-05:00", "reason": "patient_not_home",
                           "note": "no answer"}
    assert [m.seq for m in Outbox(store).pending()] == [1, 2, 3]


def test_an_amendment_names_its_target_and_gets_its_own_id(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    given = record_infusion(store, visit, infusion())
    amendment = amend_record(store, visit, "infusion", given.entity_id, "wrong dose",
                             {"dose": 1.5}, device_clock())
    assert amendment.type == "record.amend" and amendment.visit_id == visit
    assert amendment.entity_id not in (visit, given.entity_id)
    assert amendment.base_version == 4
    assert amendment.data == {"target_type": "infusion", "target_id": given.entity_id,
                              "reason": "wrong dose", "changes": {"dose": 1.5}}


def test_an_amendment_of_a_known_record_must_name_its_type_and_visit(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    store.put("visit", "v2", {"patient_id": "p1"}, version=1, synced=True)
    note = add_note(store, visit, "assessment", "Site clean.", device_clock())
    with pytest.raises(InvalidDocumentation, match="is a note record, not a vitals record"):
        amend_record(store, visit, "vitals", note.entity_id, "typo", {"value": 70},
                     device_clock())
    with pytest.raises(InvalidDocumentation, match=f"belongs to visit {visit}"):
        amend_record(store, "v2", "note", note.entity_id, "typo", {"text": "x"},
                     device_clock())
    assert Outbox(store).pending_count() == 1


def test_what_the_server_would_refuse_is_refused_before_it_is_queued(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    late = datetime(2026, 11, 23, 8, 0, tzinfo=EASTERN)
    cases: list[tuple[Callable[[], object], str]] = [
        (lambda: record_infusion(store, visit, infusion(
            access=VascularAccessUse("picc", "arm", 5, 0))),
         "access.site_assessment.phlebitis_score"),
        (lambda: record_infusion(store, visit, infusion(stopped_at=late)), "stopped_at"),
        (lambda: record_infusion(store, visit, infusion(
            access=VascularAccessUse("hickman", "chest", 0, 0))), "access.device_type"),
        (lambda: record_infusion(store, visit, infusion(pump=PumpUse("P", 100.123))),
         "pump.programmed_rate_ml_h"),
        (lambda: add_note(store, visit, "gossip", "x", device_clock()), "category"),
        (lambda: add_note(store, visit, "assessment", "", device_clock()), "text"),
        (lambda: report_missed(store, visit, "raining", device_clock()), "reason"),
        (lambda: amend_record(store, visit, "infusion", str(uuid.uuid4()), "r", {},
                              device_clock()), "changes"),
    ]
    for attempt, field in cases:
        with pytest.raises(InvalidDocumentation) as refused:
            attempt()
        assert field in refused.value.errors, (field, refused.value.errors)
    assert Outbox(store).pending_count() == 0
    assert store.all(LOCAL_DOCUMENT) == []


def test_documenting_a_visit_not_on_the_device_is_refused(
        store: Store, device_clock: DeviceClock) -> None:
    with pytest.raises(UnknownVisit):
        record_infusion(store, "nope", infusion())
    with pytest.raises(UnknownVisit):
        sign_visit(store, "nope", device_clock())
    assert Outbox(store).pending_count() == 0


def test_vitals_now_carry_the_visit_version_they_were_documented_against(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    mutations = record_vitals(store, visit, Vitals(heart_rate=72, spo2=98), device_clock())
    assert {m.base_version for m in mutations} == {4}


def test_every_mutation_is_kept_as_a_local_document(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    given = record_infusion(store, visit, infusion())
    note = add_note(store, visit, "assessment", "Site clean.", device_clock())
    kept = {record.id: record.data for record in store.all(LOCAL_DOCUMENT)}
    assert kept == {given.id: given.to_wire(), note.id: note.to_wire()}
    assert all(not record.synced for record in store.all(LOCAL_DOCUMENT))


def test_unanswered_documents_are_kept_even_when_their_visit_leaves(
        store: Store, visit: str, device_clock: DeviceClock) -> None:
    add_note(store, visit, "assessment", "Site clean.", device_clock())
    store.delete("visit", visit)
    assert prune_local_documents(store) == 0
    assert len(store.all(LOCAL_DOCUMENT)) == 1


def test_amendment_changes_are_typed_by_field() -> None:
    assert parse_changes("infusion", ["dose=2.5", "lot_expiry=2027-01-31", "notes=a=b",
                                      'access:={"site": "right"}']) == {
        "dose": 2.5, "lot_expiry": "2027-01-31", "notes": "a=b", "access": {"site": "right"}}
    assert parse_changes("vitals", ["value=72"]) == {"value": 72}
    refusals = {("infusion", "nurse_id=x"): "cannot be amended",
                ("infusion", "dose=lots"): "expected a number",
                ("infusion", "lot_expiry=soon"): "expected a date",
                ("infusion", "access=picc"): "field:=value",
                ("infusion", "access:={bad"): "access",
                ("note", "category=gossip"): "one of assessment",
                ("note", "text"): "field=value"}
    for (target, item), message in refusals.items():
        with pytest.raises(ChangeError, match=message):
            parse_changes(target, [item])
    with pytest.raises(ChangeError, match="twice"):
        parse_changes("note", ["text=a", "text=b"])


def test_clinical_times_default_to_the_device_zone() -> None:
    now = datetime(2026, 11, 23, 8, 0, tzinfo=EASTERN)
    assert parse_clinical_time("09:10", now) == now.replace(hour=9, minute=10)
    assert parse_clinical_time("2026-11-22T21:05", now) == datetime(
        2026, 11, 22, 21, 5, tzinfo=EASTERN)
    assert parse_clinical_time("2026-11-23T14:00:00Z", now).utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="not a time"):
        parse_clinical_time("noonish", now)


# --- the command line -----------------------------------------------------------------------


@pytest.fixture
def run(store_path: Path, server: FakeServer, device_clock: DeviceClock,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("INFUSYNC_DEVICE_PIN", PIN)

    def invoke(*argv: str) -> tuple[int, str, str]:
        try:
            code = main(["--store", str(store_path), *argv], transport=server,
                        clock=device_clock)
        except SystemExit as exc:  # argparse refuses malformed options before main runs
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return invoke


@pytest.fixture
def enrolled(run: Run, server: FakeServer) -> None:
    server.pages[None] = page([
        upsert("patient", "p1", first_name="Ada", last_name="Lovelace"),
        upsert("visit", VISIT, 3, patient_id="p1", status="scheduled",
               scheduled_start="2026-11-23T14:00:00Z", scheduled_end="2026-11-23T15:00:00Z"),
        upsert("pump", "pump-1", serial="PMP-OLD", status="in_service", patient_id="p1",
               next_pm_due_on="2026-11-01"),
    ], "c1", snapshot=True)
    assert run("enroll", "--server", SERVER_URL, "--code", server.issue_code(),
               "--scrypt-n", str(FAST_N))[0] == 0
    assert run("sync")[0] == 0


INFUSION_ARGS = ("infusion", VISIT, "--order", ORDER, "--medication", "ceftriaxone",
                 "--dose", "2", "--unit", "g", "--route", "IV", "--lot", "L123",
                 "--lot-expiry", "2027-05-31", "--access-type", "picc",
                 "--site", "left basilic", "--phlebitis", "0", "--infiltration", "1",
                 "--started", "08:10", "--stopped", "2026-11-23T08:40:00-05:00")


def _sent(server: FakeServer, type_: str) -> list[dict[str, Any]]:
    return [m for m in server.applied.values() if m["type"] == type_]


def test_the_infusion_command_sends_the_wire_mutation(
        run: Run, enrolled: None, server: FakeServer) -> None:
    code, out, err = run(*INFUSION_ARGS, "--no-flush-after", "--pump-serial", "PMP-1",
                         "--rate", "100", "--vtbi", "100.5", "--volume", "100",
                         "--reaction", "flushing", "--reaction-actions", "slowed rate",
                         "--notes", "ok")
    assert code == 0, err
    assert "infusion recorded as record" in out and "warning" not in out
    assert "1 applied" in run("sync")[1]
    [sent] = _sent(server, "infusion.record")
    assert (sent["visit_id"], sent["base_version"]) == (VISIT, 3)
    assert sent["entity_id"] != VISIT and sent["entity_id"] in out
    assert sent["data"] == {
        "order_id": ORDER, "medication": "ceftriaxone", "dose": 2, "dose_unit": "g",
        "route": "IV", "lot_number": "L123", "lot_expiry": "2027-05-31",
        "access": {"device_type": "picc", "site": "left basilic", "flushed_before": True,
                   "flushed_after": False,
                   "site_assessment": {"phlebitis_score": 0, "infiltration_score": 1}},
        "pump": {"serial": "PMP-1", "programmed_rate_ml_h": 100, "vtbi_ml": 100.5},
        "started_at": "2026-11-23T08:10:00-05:00", "stopped_at": "2026-11-23T08:40:00-05:00",
        "volume_infused_ml": 100,
        "adverse_reaction": {"occurred": True, "description": "flushing",
                             "actions_taken": "slowed rate"},
        "notes": "ok"}


def test_note_sign_missed_and_amend_commands_send_their_mutations(
        run: Run, enrolled: None, server: FakeServer) -> None:
    code, out, _ = run("note", VISIT, "--category", "assessment", "--text", "Site clean.")
    assert code == 0
    note_id = out.split("record ")[1].split()[0]
    assert run("sign", VISIT)[0] == 0
    assert run("missed", VISIT, "--reason", "patient_refused", "--note", "declined")[0] == 0
    code, out, err = run("amend", VISIT, "--target-type", "note", "--target-id", note_id,
                         "--reason", "typo", "--set", "text=Site clean, dry.")
    assert code == 0, err
    assert "4 applied" in run("sync")[1]
    [note] = _sent(server, "visit.note")
    [signed] = _sent(server, "visit.sign")
    [missed] = _sent(server, "visit.missed")
    [amend] = _sent(server, "record.amend")
    assert note["entity_id"] == note_id and note["data"] == {
        "category": "assessment", "text": "Site clean."}
    assert signed["entity_id"] == VISIT and signed["data"]["at"] == "2026-11-23T08:00:00-05:00"
    assert missed["data"] == {"at": "2026-11-23T08:00:00-05:00", "reason": "patient_refused",
                              "note": "declined"}
    assert amend["data"] == {"target_type": "note", "target_id": note_id, "reason": "typo",
                             "changes": {"text": "Site clean, dry."}}
    assert {m["base_version"] for m in (note, signed, missed, amend)} == {3}


def test_visits_show_what_was_documented_and_whether_it_was_answered(
        run: Run, enrolled: None, server: FakeServer) -> None:
    run(*INFUSION_ARGS)
    run("note", VISIT, "--category", "teaching", "--text", "Taught line care.")
    run("sign", VISIT)
    out = run("visits")[1]
    assert "unsent: infusion, note, signature" in out
    [infusion_line] = [line for line in out.splitlines() if "infusion ceftriaxone" in line]
    assert infusion_line.split()[0] == "unsent"
    server.verdicts["visit.note"] = {"status": "conflict", "version": 1, "visit_version": 2,
                                     "review_item_id": ITEM}
    run("sync")
    lines = run("visits")[1].splitlines()
    assert any(line.split()[:3] == ["applied", "infusion", "ceftriaxone"] for line in lines)
    assert any(line.split()[:3] == ["conflict", "note", "(teaching)"] for line in lines)
    assert any(line.split() == ["applied", "signature"] for line in lines)
    status = run("status")[1]
    assert "conflict" in status and "(note (teaching))" in status and f"review {ITEM}" in status


def test_a_sync_forgets_answered_documents_of_a_visit_that_left_the_device(
        run: Run, enrolled: None, server: FakeServer, store_path: Path) -> None:
    run("note", VISIT, "--category", "assessment", "--text", "Site clean.")
    server.pages["c1"] = page([remove("visit", VISIT)], "c2")
    assert run("sync")[0] == 0
    assert "no visits on this device" in run("visits")[1]
    with Store.open(store_path, PIN) as store:
        assert store.all(LOCAL_DOCUMENT) == []
        assert [r.type for r in Outbox(store).results()] == ["visit.note"]


def test_expired_lots_and_overdue_pumps_are_recorded_with_a_warning(
        run: Run, enrolled: None) -> None:
    args = [*INFUSION_ARGS]
    args[args.index("--lot-expiry") + 1] = "2026-11-01"
    code, out, _ = run(*args, "--pump-serial", "PMP-OLD", "--rate", "100")
    assert code == 0
    assert "warning: lot L123 expired 2026-11-01" in out
    assert "warning: pump PMP-OLD is due for maintenance (2026-11-01)" in out
    assert "pending    1 mutation(s)" in run("status")[1]


@pytest.mark.parametrize(("change", "message"), [
    (("--phlebitis", "7"), "infusion not recorded: --phlebitis: Must be greater than or equal "
                           "to 0 and less than or equal to 4."),
    (("--access-type", "hickman"), "argument --access-type: invalid choice: 'hickman'"),
    (("--lot-expiry", "31/05/2027"), "argument --lot-expiry: not a date YYYY-MM-DD"),
    (("--dose", "two"), "argument --dose: not a number: 'two'"),
    (("--stopped", "07:00"), "infusion not recorded: --stopped: The infusion cannot stop "
                             "before it started."),
    (("--started", "soon"), "--started: not a time: 'soon'"),
    (("--order", "order-7"), "infusion not recorded: --order: Not a valid UUID."),
    (("--rate", "100"), "give --pump-serial and --rate together"),
    (("--reaction-actions", "called MD"), "--reaction-actions needs --reaction"),
])
def test_infusion_mistakes_are_one_clear_error_and_nothing_is_queued(
        run: Run, enrolled: None, change: tuple[str, str], message: str) -> None:
    args = [*INFUSION_ARGS]
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args.extend(change)
    code, _, err = run(*args)
    assert code != 0
    assert message in err
    assert "pending    0 mutation(s)" in run("status")[1]


@pytest.mark.parametrize(("argv", "message"), [
    (("note", VISIT, "--category", "gossip", "--text", "x"), "invalid choice: 'gossip'"),
    (("note", VISIT, "--category", "assessment", "--text", ""),
     "note not recorded: --text: Length must be between 1 and 20000."),
    (("missed", VISIT, "--reason", "raining"), "invalid choice: 'raining'"),
    (("sign", "not-a-visit"), "visit not-a-visit is not on this device"),
    (("amend", VISIT, "--target-type", "infusion", "--target-id", ORDER, "--reason", "r",
      "--set", "nurse_id=x"), "amendment not recorded: --set 'nurse_id' cannot be amended"),
    (("amend", VISIT, "--target-type", "vitals", "--target-id", ORDER, "--reason", "r",
      "--set", "value=high"), "--set value: expected a number, got 'high'"),
    (("amend", VISIT, "--target-type", "note", "--target-id", "n1", "--reason", "r",
      "--set", "text=x"), "amendment not recorded: --target-id: Not a valid UUID."),
    (("amend", VISIT, "--target-type", "note", "--target-id", ORDER, "--reason", "r"),
     "the following arguments are required: --set"),
])
def test_other_mistakes_are_one_clear_error(
        run: Run, enrolled: None, argv: tuple[str, ...], message: str) -> None:
    code, _, err = run(*argv)
    assert code != 0
    assert message in err
    assert "pending    0 mutation(s)" in run("status")[1]
