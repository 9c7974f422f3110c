"""The weekly summary reaching a supervisor on WhatsApp: the text, then the chart as a media
message that Twilio fetches from the service, which serves that chart and nothing else."""

from urllib.parse import urlsplit

from tests.e2e.channels import TelegramStaff, WhatsAppCitizen
from tests.helpers import POTHOLE


def test_a_supervisor_on_whatsapp_gets_the_weekly_summary_and_its_chart_as_a_media_message(
    service, provider
):
    for member in (
        ["--name", "Rosa Pérez", "--role", "supervisor", "--whatsapp", "+50370009999"],
        ["--name", "Marta Ruiz", "--role", "supervisor", "--telegram-id", "4242"],
    ):
        added = service.cli("staff", "add", *member)
        assert added.returncode == 0, added.stderr
    ana = WhatsAppCitizen(service, "+50370001234", "Ana")
    for line in POTHOLE:
        ana.send(line)
    rosa = WhatsAppCitizen(service, "+50370009999", "Rosa")
    rosa.send("buenos días")  # her 24-hour window is open

    sent = service.cli("summary", "--send")
    assert sent.returncode == 0, sent.stderr
    assert "en cola para 2 supervisores" in sent.stdout

    def rosa_chart():
        return next(
            (
                c.params
                for c in provider.sent("twilio")
                if c.params.get("To") == "whatsapp:+50370009999" and c.params.get("MediaUrl")
            ),
            None,
        )

    chart = provider.wait_for(rosa_chart)
    assert any(reply.startswith("📊 Resumen semanal") for reply in rosa.replies())
    assert "Casos recibidos por tipo" in chart["Body"]
    url = urlsplit(chart["MediaUrl"])
    assert f"{url.scheme}://{url.netloc}" == service.url
    # What Twilio fetches is the PNG itself.
    fetched = service.http.get(url.path)
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/png"
    assert fetched.content.startswith(b"\x89PNG")
    # The Telegram supervisor gets the same chart as a photo, not a link.
    marta = TelegramStaff(service, 4242, "Marta")
    (photo,) = provider.wait_for(lambda: provider.calls_to("sendPhoto"))
    assert int(photo.params["chat_id"]) == 4242 and photo.params["photo"].startswith(b"\x89PNG")
    assert any(c["text"].startswith("📊 Resumen semanal") for c in marta.replies())

    # Nothing else is served from there: not another name, not the folder, not a way out of it.
    folder, name = url.path.rsplit("/", 1)
    for path in (
        folder + "/" + "A" * 32 + ".png",  # well formed, no such chart
        folder + "/" + name.replace(".png", ".PNG"),
        folder + "/",
        folder,
        folder + "/..%2F..%2Fconfig.toml",
        folder + "/%2e%2e%2fconfig.toml",
        folder + "/../../config.toml",
        folder + "/" + name + "/..",
    ):
        assert service.http.get(path).status_code == 404, path
