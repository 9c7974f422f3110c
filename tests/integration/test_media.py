"""Media: fetched only from the provider's hosts, limited in size and type, stored by hash,
and deleted from disk once the citizen's data is erased."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import MediaSettings
from bot.media import MAX_ATTEMPTS, MediaFetcher, TwilioMedia
from handlers.core.messages import Incoming, Media
from handlers.dialogue.intake import receive
from storage.models import Attachment
from storage.repositories import file_apart
from tests.helpers import TUESDAY
from tests.provider import JPEG, Provider

ACCOUNT_SID = "AC" + "3" * 32


@pytest.fixture
def provider() -> Iterator[Provider]:
    stand_in = Provider("1:media", ACCOUNT_SID).start()
    yield stand_in
    stand_in.stop()


def fetcher(app, provider, tmp_path, **media) -> MediaFetcher:
    settings = MediaSettings(directory=str(tmp_path / "media"), **media)
    limit = int(settings.max_mb * 1024 * 1024)
    twilio = TwilioMedia(ACCOUNT_SID, "token", provider.url, limit)
    return MediaFetcher(app, {"whatsapp": twilio}, settings)


def photo_from(app, url: str, content_type: str = "image/jpeg", number="+50370002222") -> int:
    incoming = Incoming(
        "whatsapp", number, f"SM{url}", TUESDAY, media=(Media("photo", url, content_type),)
    )
    with app.uow() as uow:
        receive(incoming, uow, app.dialogue, TUESDAY)
    with app.uow() as uow:
        return max(a.id for a, _ in uow.messages.pending_downloads(("whatsapp",), 100))


def fetch(app, media: MediaFetcher, attachment_id: int) -> Attachment:
    with app.uow() as uow:
        attachment = uow.messages.get_attachment(attachment_id)
    asyncio.run(media.fetch_one(attachment.id, "whatsapp", attachment.provider_ref, None))
    with app.uow() as uow:
        return uow.messages.get_attachment(attachment_id)


def test_a_photo_is_fetched_with_credentials_through_the_redirect_and_stored_by_hash(
    app, provider, tmp_path
):
    media = fetcher(app, provider, tmp_path)
    stored = fetch(app, media, photo_from(app, provider.add_media("ME1", JPEG, "image/jpeg")))
    assert stored.status == "stored" and Path(stored.local_path).read_bytes() == JPEG
    assert Path(stored.local_path).name.startswith(stored.sha256)


def test_files_from_other_hosts_too_large_or_of_other_types_are_refused(app, provider, tmp_path):
    media = fetcher(app, provider, tmp_path, max_mb=0.001)
    elsewhere = fetch(app, media, photo_from(app, "https://example.com/ME1.jpg"))
    big = provider.add_media("BIG", JPEG * 100, "image/jpeg")
    too_large = fetch(app, media, photo_from(app, big))
    script = provider.add_media("JS", b"alert(1)", "text/javascript")
    wrong_type = fetch(app, media, photo_from(app, script, "text/javascript"))
    assert [elsewhere.status, too_large.status, wrong_type.status] == ["failed"] * 3
    assert not list((tmp_path / "media").glob("*/*"))


def test_erasing_a_citizens_data_deletes_their_files(app, provider, tmp_path):
    media = fetcher(app, provider, tmp_path)
    stored = fetch(app, media, photo_from(app, provider.add_media("ME2", JPEG, "image/jpeg")))
    assert media.prune(min_age=0) == 0  # still referenced
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", "+50370002222", TUESDAY)
        uow.messages.erase_conversation([contact.id], [], "[borrado]")
        uow.commit()
    assert not Path(stored.local_path).exists()  # at once, not at the next prune
    assert media.prune(min_age=0) == 0


def test_erasure_and_retention_delete_a_file_at_once_unless_someone_else_sent_it_too(
    app, provider, tmp_path
):
    """Found by the outside attack: the file, named by its content's hash, outlived the
    erasure of its row until the next prune (and an hour more)."""
    from handlers.casework.privacy import erase_inactive_contacts

    media = fetcher(app, provider, tmp_path)
    url = provider.add_media("ME7", JPEG, "image/jpeg")
    own = fetch(app, media, photo_from(app, url, number="+50370007777"))
    again = provider.add_media("ME7again", JPEG, "image/jpeg")
    alike = fetch(app, media, photo_from(app, again, number="+50370008888"))
    other = provider.add_media("ME8", JPEG + b"\x00", "image/jpeg")
    alone = fetch(app, media, photo_from(app, other, number="+50370009999"))
    assert own.local_path == alike.local_path != alone.local_path
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", "+50370007777", TUESDAY)
        uow.messages.erase_conversation([contact.id], [], "[borrado]")
        uow.commit()
    assert Path(own.local_path).exists()  # the same photo, still someone else's
    with app.uow() as uow:
        contact = uow.contacts.get_or_create("whatsapp", "+50370008888", TUESDAY)
        uow.messages.erase_conversation([contact.id], [], "[borrado]")
        uow.commit()
    assert not Path(own.local_path).exists()
    # The retention run's erasure of someone who wrote nothing since.
    with app.uow() as uow:
        erased = erase_inactive_contacts(uow, app.policy, TUESDAY + timedelta(days=3650))
        uow.commit()
    assert erased >= 1 and not Path(alone.local_path).exists()


def test_the_same_photo_in_a_named_and_an_anonymous_case_shares_no_hash_and_no_file(
    app, provider, tmp_path
):
    """Found by the outside attack: the same photo in both cases had the same sha256 and the
    same file, a join that named the anonymous reporter."""
    from tests.helpers import Citizen

    media = fetcher(app, provider, tmp_path)
    named = fetch(app, media, photo_from(app, provider.add_media("MEa", JPEG, "image/jpeg")))
    # Found by the next outside attack: the named file was touched when the same photo arrived
    # for the anonymous case, and its change time dated the anonymous report.
    os.utime(named.local_path, (1_000_000_000, 1_000_000_000))
    named_times = os.stat(named.local_path)

    def anonymous_with_photo(number: str, ref: str, fetched_before: bool) -> Attachment:
        citizen = Citizen(app.dialogue, app.uow, address=number, channel="whatsapp")
        citizen.converse("hola", "si", "1", "denuncio que el capataz vende el cemento")
        citizen.send("", media=(Media("photo", provider.add_media(ref, JPEG, "image/jpeg"), ""),))
        with app.uow() as uow:
            (pending, _), *_ = uow.messages.pending_downloads(("whatsapp",), 100)
        if fetched_before:
            fetch(app, media, pending.id)
        assert "Código secreto" in citizen.converse("listo", "si", "omitir", "1")
        with app.uow() as uow:
            (case, *_) = [c for c in uow.cases.search() if c.anonymous and c.id not in seen]
            seen.add(case.id)
            (attachment,) = uow.messages.attachments_for_case(case.id)
        if not fetched_before:
            attachment = fetch(app, media, attachment.id)
        return attachment

    seen: set[int] = set()
    downloaded_first = anonymous_with_photo("+50370004444", "MEb", fetched_before=True)
    made_anonymous_first = anonymous_with_photo("+50370006666", "MEc", fetched_before=False)
    hashes = {named.sha256, downloaded_first.sha256, made_anonymous_first.sha256}
    paths = {named.local_path, downloaded_first.local_path, made_anonymous_first.local_path}
    assert len(hashes) == len(paths) == 3
    for attachment in (named, downloaded_first, made_anonymous_first):
        assert Path(attachment.local_path).read_bytes() == JPEG
    assert {p.name for p in (tmp_path / "media").glob("*/*")} == {Path(p).name for p in paths}
    after = os.stat(named.local_path)
    assert (after.st_mtime_ns, after.st_ctime_ns) == (
        named_times.st_mtime_ns,
        named_times.st_ctime_ns,
    )


def test_a_copy_kept_apart_in_the_folder_of_the_file_it_copies_leaves_the_folders_time_at_the_day(
    app, tmp_path
):
    """Found by CI under load: when the anonymous copy's keyed name fell in the folder of the
    name by content (one time in 256), the folder's time was read after the copy and set back
    to that: the time the anonymous photo arrived."""
    folder = tmp_path / "media" / "ab"
    folder.mkdir(parents=True)
    digest = "ab" + "0" * 62
    source = folder / f"{digest}.jpg"
    source.write_bytes(JPEG)
    midnight = 1_796_428_800  # 2026-12-05 00:00 UTC, as the service sets a file's day
    for path in (source, folder):
        os.utime(path, (midnight, midnight))
    with app.uow() as uow:
        kept, _ = file_apart(uow.session, str(source), digest, lambda _: "ab" + "1" * 62)
        uow.commit()  # the file named by its content goes: nothing else uses it
    assert Path(kept).parent == folder and not source.exists()
    assert (os.stat(kept).st_mtime, os.stat(folder).st_mtime) == (midnight, midnight)


def test_copying_a_named_photo_for_an_anonymous_case_leaves_its_access_time_alone(app, tmp_path):
    """Found by the second outside attack of 2026-12-05: the named case's photo, read to make
    the anonymous copy, took that moment as its access time (a disk mounted relatime)."""
    folder = tmp_path / "media" / "cd"
    folder.mkdir(parents=True)
    digest = "cd" + "0" * 62
    named = folder / f"{digest}.jpg"
    named.write_bytes(JPEG)
    midnight = 1_796_428_800
    os.utime(named, (midnight, midnight))
    with app.uow() as uow:
        # Another attachment still uses the file: it stays, as the named case's photo does.
        kept, _ = file_apart(uow.session, str(named), digest, lambda _: "ef" + "1" * 62)
    assert Path(kept).read_bytes() == JPEG
    assert (os.stat(named).st_atime, os.stat(named).st_mtime) == (midnight, midnight)


def test_the_providers_reference_goes_once_a_file_is_stored_or_given_up_and_the_log_is_silent(
    app, provider, tmp_path, caplog
):
    """F5 and F6 of the privacy attack: Twilio's URL (which holds the message's sid) must not
    outlive the download, and the log must not carry an attachment's id (the time it was sent);
    nor a line about it at all (an outside check, 2026-12-05): a line's own time is about when
    the file was sent, and dated a file of an anonymous case. The metrics count them."""
    caplog.set_level(logging.DEBUG)
    media = fetcher(app, provider, tmp_path)
    url = provider.add_media("ME3", JPEG, "image/jpeg")
    stored = fetch(app, media, photo_from(app, url))
    assert (stored.status, stored.provider_ref) == ("stored", "")
    refused = fetch(app, media, photo_from(app, url.replace("ME3", "MEgone"), number="+5037003"))
    assert (refused.status, refused.provider_ref) == ("failed", "")
    # The provider unreachable: the reference is kept to try again, and dropped when given up.
    settings = MediaSettings(directory=str(tmp_path / "media"))
    closed = "http://127.0.0.1:9"
    unreachable = MediaFetcher(
        app, {"whatsapp": TwilioMedia(ACCOUNT_SID, "token", closed, 1024 * 1024)}, settings
    )
    waiting = photo_from(app, url.replace(provider.url, closed), number="+5037004")
    tries = [fetch(app, unreachable, waiting) for _ in range(MAX_ATTEMPTS)]
    assert [t.status for t in tries] == ["pending"] * (MAX_ATTEMPTS - 1) + ["failed"]
    assert tries[0].provider_ref.startswith(closed) and tries[-1].provider_ref == ""
    # The service's own lines (the HTTP libraries are held at WARNING by its log settings).
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("bot", "handlers", "storage")]
    assert [record.getMessage() for record in ours if record.name == "bot.media"] == []
    counted = {
        outcome: app.metrics.registry.get_sample_value(
            "ta_media_downloads_total", {"channel": "whatsapp", "outcome": outcome}
        )
        for outcome in ("stored", "refused", "retry")
    }
    assert counted == {"stored": 1, "refused": 1, "retry": MAX_ATTEMPTS}


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_telegram_files_are_kept_by_what_their_content_is_not_by_their_declared_type(
    app, provider, tmp_path
):
    from bot.channels.telegram import TelegramChannel
    from bot.config import TelegramSettings
    from bot.media import TelegramMedia

    settings = MediaSettings(directory=str(tmp_path / "media"))
    channel = TelegramChannel(
        TelegramSettings(enabled=True, token="1:media", api_base_url=f"{provider.url}/bot")
    )
    media = MediaFetcher(app, {"telegram": TelegramMedia(channel.bot, 1024 * 1024)}, settings)
    provider.media["PAGE"] = (b"<html><script>alert(1)</script></html>", "application/pdf")
    provider.media["REPORT"] = (PDF, "application/octet-stream")
    provider.media["PHOTO"] = (JPEG, "image/jpeg")

    def document(file_id: str, declared: str) -> Attachment:
        incoming = Incoming(
            "telegram",
            "4242",
            f"1:{file_id}",
            TUESDAY,
            media=(Media("document", file_id, declared),),
        )
        with app.uow() as uow:
            receive(incoming, uow, app.dialogue, TUESDAY)
        with app.uow() as uow:
            attachment = max(
                (a for a, _ in uow.messages.pending_downloads(("telegram",), 100)),
                key=lambda a: a.id,
            )
        asyncio.run(media.fetch_one(attachment.id, "telegram", file_id, declared))
        with app.uow() as uow:
            return uow.messages.get_attachment(attachment.id)

    # An HTML page that says it is a PDF is refused; a PDF that does not say so is kept.
    assert document("PAGE", "application/pdf").status == "failed"
    report = document("REPORT", "application/octet-stream")
    assert report.status == "stored" and report.local_path.endswith(".pdf")
    assert document("PHOTO", "application/pdf").local_path.endswith((".jpg", ".jpeg"))


# What the outside attack of 2026-12-05 (night, F4) joined: the words and the photo of a draft
# dropped earlier, left under the number with their exact times, and the same ones in the case.
SAME_WORDS_UNDER_A_NUMBER = """
SELECT c.address, m.created_at FROM messages m JOIN contacts c ON c.id = m.contact_id
JOIN messages a ON a.body = m.body JOIN cases k ON k.id = a.case_id
WHERE k.anonymous AND m.direction = 'in' AND length(m.body) >= 20
"""


def test_a_dropped_draft_sent_again_as_an_anonymous_denuncia_leaves_its_words_and_photo_nowhere(
    app, provider, tmp_path
):
    from hashlib import sha256

    from sqlalchemy import text

    from tests.helpers import Citizen

    media = fetcher(app, provider, tmp_path)
    words = "denuncio que el capataz vende el cemento de la obra"
    citizen = Citizen(app.dialogue, app.uow, address="+50370007777", channel="whatsapp")

    def photo(ref: str) -> None:
        citizen.send("", media=(Media("photo", provider.add_media(ref, JPEG, "image/jpeg"), ""),))
        with app.uow() as uow:
            (pending, _), *_ = uow.messages.pending_downloads(("whatsapp",), 100)
        fetch(app, media, pending.id)

    citizen.converse("hola", "si", "1", words)
    photo("MEfirst")
    assert "Dejamos sin registrar" in citizen.send("menu")  # the draft is dropped
    citizen.converse("1", words)
    photo("MEagain")
    # A short word said in both is left as it is: only what could be told apart is cleared.
    assert "Código secreto" in citizen.converse("listo", "si", "omitir", "1")
    with app.uow() as uow:
        (case,) = uow.cases.search()
        (kept,) = uow.messages.attachments_for_case(case.id)
        contact = uow.contacts.get_or_create("whatsapp", "+50370007777", case.created_at)
        theirs = uow.messages.for_contact(contact.id)
    content = sha256(Path(kept.local_path).read_bytes()).hexdigest()
    with app.engine.connect() as connection:
        assert connection.execute(text(SAME_WORDS_UNDER_A_NUMBER)).all() == []
        same_file = connection.execute(
            text("SELECT id FROM attachments WHERE sha256 = :digest"), {"digest": content}
        )
        assert same_file.all() == []
    # The dropped draft's words are cleared as an erasure clears them; the other messages stay.
    said = [m.body for m in theirs if m.direction == "in"]
    assert words not in said and "[borrado a pedido del ciudadano]" in said
    assert said[:3] == ["hola", "si", "1"]
    # Of the photo, only the anonymous case's copy is left in the media folder.
    files = [p for p in (tmp_path / "media").glob("*/*") if p.is_file()]
    assert [p.read_bytes() == JPEG for p in files] == [True]
    assert files[0] == Path(kept.local_path)


def test_an_anonymous_cases_copy_of_a_photo_is_readable_by_the_service_only(
    app, provider, tmp_path
):
    """Found by the same attack (F5): the copy kept apart for an anonymous case was written
    readable by every user of the machine (0644), while every file the service downloads is
    its own only (0600)."""
    from tests.helpers import Citizen

    media = fetcher(app, provider, tmp_path)
    named = fetch(app, media, photo_from(app, provider.add_media("MEn", JPEG, "image/jpeg")))
    citizen = Citizen(app.dialogue, app.uow, address="+50370004444", channel="whatsapp")
    citizen.converse("hola", "si", "1", "denuncio que el capataz vende el cemento")
    citizen.send("", media=(Media("photo", provider.add_media("MEa", JPEG, "image/jpeg"), ""),))
    with app.uow() as uow:
        (pending, _), *_ = uow.messages.pending_downloads(("whatsapp",), 100)
    fetch(app, media, pending.id)  # downloaded before the case is made: copied when it is
    assert "Código secreto" in citizen.converse("listo", "si", "omitir", "1")
    with app.uow() as uow:
        (case,) = [c for c in uow.cases.search() if c.anonymous]
        (kept,) = uow.messages.attachments_for_case(case.id)
    assert kept.local_path != named.local_path
    for path in (named.local_path, kept.local_path):
        assert os.stat(path).st_mode & 0o777 == 0o600, path
