"""A device lives through both key rotations: before, during the grace period, and after.

The reference client talks to the real app; the IT team rotates with the ``infusync keys``
commands. HPKE (sealing): the device hears of the new key at its next sync and seals to
it at once; one that slept through the grace period is told by a signed ``409
unknown_key`` and reseals. Signing: the new key is announced, endorsed by the old one, and
signs only after the grace period; a device that slept through it follows the endorsement.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from flask.testing import FlaskCliRunner

from offline_store.documentation import add_note
from offline_store.identity import load_identity
from offline_store.outbox import Outbox
from sync import envelope
from tests.integration.sync.reference_device import ReferenceDevice, enroll_reference_device

GRACE_HOURS = 168  # SYNC_MAX_OFFLINE_HOURS by default
OCCURRED_AT = datetime(2026, 11, 23, 9, 5, tzinfo=timezone(timedelta(hours=-5)))


def cli(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=["keys", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def note(phone: ReferenceDevice, visit_id: object, text: str) -> None:
    """A note on a visit the device holds (pulled), queued in the outbox."""
    add_note(phone.store, str(visit_id), "assessment", text, OCCURRED_AT)


def sealed_to(phone: ReferenceDevice) -> list[str]:
    """The HPKE key ids of the pushes the device sent, in order."""
    return [json.loads(e.body or b"{}")["key_id"] for e in phone.wire.to("/sync/push")]


def signed_by(phone: ReferenceDevice, suffix: str) -> str:
    """The key id that signed the last answer to ``suffix``."""
    header = phone.wire.to(suffix)[-1].response.header("Infusync-Signature")
    return envelope.parse_pull_signature_header(header or "")[0]


def statuses(phone: ReferenceDevice) -> list[str]:
    return [result.status for result in Outbox(phone.store).results()]


def test_a_device_lives_through_an_hpke_rotation(client, as_user, agency, runner, clock,
                                                 tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    phone.sync.pull()
    note(phone, agency["visit_a"], "before")
    phone.sync.sync()
    assert sealed_to(phone) == ["hpke-initial"]

    new_id = cli(runner, "rotate").split("current HPKE key: ")[1].split(";")[0]
    clock.advance(hours=1)  # during the grace period: the next sync learns the new key
    note(phone, agency["visit_a"], "during")
    phone.sync.sync()
    assert sealed_to(phone) == ["hpke-initial", new_id]
    held = {(k.key_id, k.current) for k in load_identity(phone.store).hpke_keys}
    assert held == {("hpke-initial", False), (new_id, True)}

    clock.advance(hours=GRACE_HOURS)  # after: the old key is gone from what it holds
    note(phone, agency["visit_a"], "after")
    phone.sync.sync()
    assert sealed_to(phone) == ["hpke-initial", new_id, new_id]
    assert [k.key_id for k in load_identity(phone.store).hpke_keys] == [new_id]
    assert statuses(phone) == ["applied"] * 3


def test_a_device_asleep_through_the_hpke_grace_period_reseals_on_a_signed_refusal(
        client, as_user, agency, runner, clock, tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    phone.sync.pull()
    new_id = cli(runner, "rotate").split("current HPKE key: ")[1].split(";")[0]
    clock.advance(hours=GRACE_HOURS + 1)
    note(phone, agency["visit_a"], "written offline")
    phone.sync.push()  # no keys asked first: it still seals to the key it enrolled with
    assert sealed_to(phone) == ["hpke-initial", new_id]
    assert phone.wire.to("/sync/push")[0].response.status == 409
    assert statuses(phone) == ["applied"]


def test_a_device_lives_through_a_signing_key_rotation(client, as_user, agency, runner,
                                                       clock, tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    phone.sync.sync()
    assert signed_by(phone, "/sync/pull") == "signing-initial"

    output = cli(runner, "rotate-signing")
    new_id = output.split("new signing key: ")[1].split(",")[0]
    signs_from = (clock() + timedelta(hours=GRACE_HOURS)).isoformat()
    assert f"endorsed by signing-initial; it signs from {signs_from}" in output
    clock.advance(hours=1)  # during: still signed by the old key; the new one is learnt
    note(phone, agency["visit_a"], "during")
    phone.sync.sync()
    assert signed_by(phone, "/sync/pull") == "signing-initial"
    assert [k.key_id for k in load_identity(phone.store).signing_keys] == [new_id]
    assert f"signing {new_id} (announced; signs from" in cli(runner, "list")

    clock.advance(hours=GRACE_HOURS)  # after: the new key signs, the device verifies it
    note(phone, agency["visit_a"], "after")
    keys_asked = len(phone.wire.to("/sync/keys"))
    phone.sync.sync()
    assert signed_by(phone, "/sync/pull") == signed_by(phone, "/sync/push") == new_id
    assert len(phone.wire.to("/sync/keys")) == keys_asked + 1  # only the sync's own ask
    assert statuses(phone) == ["applied", "applied"]
    assert "signing signing-initial (replaced)" in cli(runner, "list")


def test_a_device_asleep_through_two_signing_rotations_follows_the_endorsements(
        client, as_user, agency, runner, clock, tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    second = cli(runner, "rotate-signing").split("new signing key: ")[1].split(",")[0]
    clock.advance(hours=GRACE_HOURS + 1)
    third = cli(runner, "rotate-signing", "--grace-hours", "0").split(
        "new signing key: ")[1].split(",")[0]
    clock.advance(hours=1)
    report = phone.sync.pull()  # signed by a key it never saw: it asks for the keys
    assert report.pages >= 1
    assert signed_by(phone, "/sync/pull") == third
    assert [k.key_id for k in load_identity(phone.store).signing_keys] == [second, third]
