"""Mail survives its failures: an SMTP server that refuses (421) and then is down for a while
gets every mail once it is back, none twice; a sending process killed with SIGKILL in the
middle of a batch loses none (a mail in flight may come again, with the same Message-ID)."""

import time
from pathlib import Path
from uuid import UUID

import pytest

from marketplace.adapters.settings import Settings
from marketplace.people.application import NewPerson
from marketplace.platform import Marketplace
from tests.distributed import spawn, wait_until
from tests.mailbox import Mailbox, use_smtp
from tests.world import World

INVITED = 30


@pytest.fixture(autouse=True)
def _smtp(mailbox: Mailbox, monkeypatch: pytest.MonkeyPatch) -> None:
    use_smtp(monkeypatch, mailbox)


def invite(marketplace: Marketplace, count: int) -> set[str]:
    """Invites `count` people to a new reseller: one mail each. Returns their addresses."""
    reseller = marketplace.sellers.register_reseller("Rhine", "reseller", "DE", "mk_s_mail_r")
    addresses = set()
    for i in range(count):
        email = f"person{i}@rhine.example"
        draft = marketplace.people.drafting(
            NewPerson(email, f"Person {i}", None), "reseller", "orders"
        )
        marketplace.sellers.add_people(reseller, draft)
        addresses.add(email)
    return addresses


def outbox_ids(marketplace: Marketplace) -> set[str]:
    return {m["message_id"] for m in marketplace.outbox.recent(1000)}


@pytest.mark.parametrize("settings", ["sqlite", "kafka"], indirect=True)
def test_a_refusing_then_absent_server_gets_every_mail_once_it_is_back(
    world: World, mailbox: Mailbox, marketplace: Marketplace
) -> None:
    mailbox.refusing = True
    addresses = invite(marketplace, 8)
    wait_until(lambda: mailbox.refused >= 3, 60, "the server to refuse some sends")
    wait_until(lambda: len(outbox_ids(marketplace)) == 8, 60, "the notifier to write the mail")
    assert mailbox.messages() == []
    assert any(
        m["attempts"] >= 1 and m["status"] == "pending" for m in marketplace.outbox.recent(50)
    )
    mailbox.stop()
    time.sleep(1.5)  # sends fail to connect meanwhile
    mailbox.refusing = False
    mailbox.start()
    received = mailbox.wait_for(lambda found: len(found) >= 8, 60)
    time.sleep(1.0)  # nothing more comes
    received = mailbox.messages()
    ids = [str(m["Message-ID"]) for m in received]
    assert len(ids) == len(set(ids)) == 8
    assert set(ids) == outbox_ids(marketplace)
    assert {str(m["To"]).split("<")[-1].rstrip(">") for m in received} == addresses
    assert {m["status"] for m in marketplace.outbox.recent(50)} == {"sent"}


def test_a_sender_killed_mid_batch_loses_no_mail(
    kafka_settings: Settings, store: Marketplace, mailbox: Mailbox, tmp_path: Path
) -> None:
    mailbox.delay = 0.15
    addresses = invite(store, INVITED)
    log = tmp_path / "project.log"
    relay = spawn(kafka_settings, "relay")
    project = spawn(kafka_settings, "project", log=log)
    try:
        wait_until(lambda: len(mailbox.messages()) >= 3, 120, "the sender to send some mail")
        project.kill()
        project.wait()
        before = len(mailbox.messages())
        assert before < INVITED, "the sender finished before it was killed"
        project = spawn(kafka_settings, "project", log=log)
        try:
            wait_until(
                lambda: len({str(m["Message-ID"]) for m in mailbox.messages()}) >= INVITED,
                180,
                "every mail to arrive",
            )
        except AssertionError as timeout:
            raise AssertionError(f"{timeout}\n{log.read_text(errors='replace')[-3000:]}") from None
    finally:
        for process in (project, relay):
            process.kill()
            process.wait()
    received = mailbox.messages()
    ids = [str(m["Message-ID"]) for m in received]
    assert set(ids) == outbox_ids(store)
    assert {str(m["To"]).split("<")[-1].rstrip(">") for m in received} == addresses
    # At most the one mail in flight at the kill came twice, with the same Message-ID.
    assert len(ids) - len(set(ids)) <= 1
    assert all(UUID(i[1:].split("@")[0]) for i in ids)
