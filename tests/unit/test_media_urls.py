"""Media URLs are normalised before their host and path are checked, and Twilio's credentials
go to Twilio's API host only (the network is httpx's in-memory transport)."""

import asyncio

import httpx
import pytest

from bot.media import Refused, TwilioMedia, host_allowed, normalised_url

SID, TOKEN = "AC" + "1" * 32, "auth-token"
API = f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages/MM1/Media/ME1"
BUCKET = f"https://s3-external-1.amazonaws.com/media.twiliocdn.com/{SID}/abc"
ATTACKS = [
    "https://s3-external-1.amazonaws.com/media.twiliocdn.com/../other-bucket/x.jpg",
    "https://s3-external-1.amazonaws.com/media.twiliocdn.com/%2e%2e/other-bucket/x.jpg",
    "https://s3-external-1.amazonaws.com/media.twiliocdn.com/%2E%2E%2Fother-bucket/x.jpg",
    "https://s3-external-1.amazonaws.com/media.twiliocdn.com/%252e%252e/other-bucket/x.jpg",
    "https://s3-external-1.amazonaws.com/media.twiliocdn.com/..%5Cother-bucket/x.jpg",
    "https://s3-external-1.amazonaws.com/media.twiliocdn.com\\..\\other-bucket/x.jpg",
    "https://s3-external-1.amazonaws.com/other-bucket/x.jpg",
    "https://api.twilio.com@evil.example/x.jpg",
    "https://user:pw@api.twilio.com/x.jpg",
    "https://api.twilio.com:8443/x.jpg",
    "http://api.twilio.com/x.jpg",
    "https://api.twilio.com./x.jpg",
    "https://api.twilio.com.evil.example/x.jpg",
    "https://evil.example/.twilio.com/x.jpg",
    "https://evil.example#.twilio.com",
    "ftp://api.twilio.com/x.jpg",
]


class Recorder:
    """Answers like Twilio: the API redirects to the bucket, which serves the file."""

    def __init__(self, redirect_to: str = BUCKET) -> None:
        self.redirect_to = redirect_to
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "api.twilio.com":
            return httpx.Response(302, headers={"location": self.redirect_to})
        return httpx.Response(200, content=b"\xff\xd8jpeg", headers={"content-type": "image/jpeg"})


def twilio_media(recorder: Recorder) -> TwilioMedia:
    media = TwilioMedia(SID, TOKEN, "", 1_000_000)
    media.client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    return media


@pytest.mark.parametrize("url", ATTACKS)
def test_an_attack_url_is_refused_before_anything_is_fetched(url):
    recorder = Recorder()
    assert not host_allowed(url, twilio_media(recorder).hosts)
    with pytest.raises(Refused):
        asyncio.run(twilio_media(recorder)(url, "image/jpeg"))
    assert recorder.requests == []


@pytest.mark.parametrize("target", ATTACKS[:7])
def test_a_redirect_out_of_twilios_bucket_is_not_followed(target):
    recorder = Recorder(redirect_to=target)
    with pytest.raises(Refused):
        asyncio.run(twilio_media(recorder)(API, "image/jpeg"))
    assert [r.url.host for r in recorder.requests] == ["api.twilio.com"]


def test_credentials_go_to_the_api_host_only_and_never_through_the_redirect():
    recorder = Recorder()
    download = asyncio.run(twilio_media(recorder)(API, "image/jpeg"))
    assert download.content == b"\xff\xd8jpeg"
    first, second = recorder.requests
    assert first.url.host == "api.twilio.com" and first.headers["authorization"].startswith("Basic")
    assert second.url.host == "s3-external-1.amazonaws.com"
    assert "authorization" not in second.headers


def test_a_file_on_twilios_cdn_is_fetched_without_credentials():
    recorder = Recorder()
    asyncio.run(twilio_media(recorder)(f"https://mms.twiliocdn.com/{SID}/abc", "image/jpeg"))
    (request,) = recorder.requests
    assert "authorization" not in request.headers


def test_dot_segments_are_resolved_before_the_check_and_what_is_checked_is_fetched():
    assert normalised_url("https://api.twilio.com/a/./b/%2e%2e/c") == "https://api.twilio.com/a/c"
    assert normalised_url("https://api.twilio.com:443/a") == "https://api.twilio.com:443/a"
    assert normalised_url("http://127.0.0.1:9000/a/../b", ("127.0.0.1",)) == (
        "http://127.0.0.1:9000/b"
    )
    assert normalised_url("http://127.0.0.1:9000/a") is None  # plain http: the stand-in only
