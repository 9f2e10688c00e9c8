"""hub.sdk.retry_after: the one reading of a rate-limited answer's headers that every check uses."""
import datetime
import email.utils

import pytest

from hub.sdk import retry_after

NOW = datetime.datetime(2026, 12, 1, 8, 0, 0, tzinfo=datetime.timezone.utc)


class Headers(dict):
    """Case-insensitive, as HttpResponse.headers is."""

    def __init__(self, **values):
        super().__init__({name.replace("_", "-").lower(): value for name, value in values.items()})

    def get(self, name, default=None):
        return super().get(name.lower(), default)


def http_date(moment):
    return email.utils.format_datetime(moment, usegmt=True)


def test_retry_after_in_seconds():
    assert retry_after(Headers(Retry_After="120"), now=NOW) == 120
    assert retry_after(Headers(Retry_After=" 0 "), now=NOW) == 0


def test_retry_after_as_an_http_date_in_the_future():
    later = NOW + datetime.timedelta(seconds=90)
    assert retry_after(Headers(Retry_After=http_date(later)), now=NOW) == 90


def test_retry_after_as_an_http_date_in_the_past_is_zero():
    earlier = NOW - datetime.timedelta(hours=1)
    assert retry_after(Headers(Retry_After=http_date(earlier)), now=NOW) == 0


def test_retry_after_wins_over_the_rate_limit_reset():
    reset = int((NOW + datetime.timedelta(seconds=300)).timestamp())
    headers = Headers(Retry_After="5", X_RateLimit_Reset=str(reset))
    assert retry_after(headers, now=NOW) == 5


def test_reset_after_in_seconds():
    assert retry_after(Headers(X_RateLimit_Reset_After="42"), now=NOW) == 42


def test_reset_in_epoch_seconds():
    reset = int(NOW.timestamp()) + 120
    assert retry_after(Headers(X_RateLimit_Reset=str(reset)), now=NOW) == 120


def test_reset_in_epoch_milliseconds():
    reset_ms = int(NOW.timestamp() * 1000) + 30_500  # rounded up to whole seconds
    assert retry_after(Headers(X_RateLimit_Reset=str(reset_ms)), now=NOW) == 31


def test_reset_in_the_past_is_zero():
    reset = int(NOW.timestamp()) - 60
    assert retry_after(Headers(X_RateLimit_Reset=str(reset)), now=NOW) == 0


def test_without_now_it_uses_the_current_time():
    reset = int(datetime.datetime.now(datetime.timezone.utc).timestamp()) + 120
    assert 118 <= retry_after(Headers(X_RateLimit_Reset=str(reset))) <= 120


@pytest.mark.parametrize("headers", [
    Headers(),
    Headers(Retry_After=""),
    Headers(Retry_After="soon"),
    Headers(Retry_After="-5"),
    Headers(Retry_After="1.5"),
    Headers(Retry_After="Wed, 99 Foo 2026 07:28:00 GMT"),
    Headers(X_RateLimit_Reset="tomorrow"),
    Headers(X_RateLimit_Reset_After="a while"),
], ids=lambda headers: repr(dict(headers)))
def test_garbage_is_none(headers):
    assert retry_after(headers, now=NOW) is None


def test_garbage_retry_after_falls_back_to_the_reset():
    reset = int(NOW.timestamp()) + 10
    assert retry_after(Headers(Retry_After="soon", X_RateLimit_Reset=str(reset)), now=NOW) == 10


def test_header_names_in_any_case():
    from hub.sdk import retry_after

    assert retry_after({"Retry-After": "7"}) == 7
    assert retry_after({"X-RateLimit-Reset-After": "3"}) == 3
