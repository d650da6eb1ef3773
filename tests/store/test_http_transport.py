"""The HTTP transport against a real HTTP(S) server on a loopback port: retries, credentials, TLS, errors."""

from __future__ import annotations

import base64
import warnings
from collections.abc import Iterator

import orjson
import pytest

from loopback import Certificates, Reply, Seen, make_certificates, quiet_http_env, script, serve
from wayline.errors import (
    ErrorCode,
    InvalidParameterValue,
    InvalidState,
    RequestLimitExceeded,
    ResourceNotFound,
    TemporarilyUnavailable,
    WaylineError,
)
from wayline.transport import MAX_RETRY_AFTER, HttpConfig, HttpTransport, WaylineRetry, parse_server_url

FAST = HttpConfig(max_retries=3, backoff_factor=0, backoff_jitter=0, timeout=10)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_http_env(monkeypatch)


def envelope(status: int, code: str, message: str) -> Reply:
    return Reply(status, orjson.dumps({"error_code": code, "message": message}))


def ok(body: object = None) -> Reply:
    return Reply(200, orjson.dumps(body if body is not None else {"ok": True}))


@pytest.fixture
def transport_for() -> Iterator[list[HttpTransport]]:
    made: list[HttpTransport] = []
    yield made
    for transport in made:
        transport.close()


def make(url: str, made: list[HttpTransport], config: HttpConfig | None = FAST, **kw: bool) -> HttpTransport:
    transport = HttpTransport(url, config=config, **kw)
    made.append(transport)
    return transport


# -- retries ------------------------------------------------------------------------------------------------
def test_503_is_retried_until_the_answer_succeeds(transport_for: list[HttpTransport]) -> None:
    with serve(script(envelope(503, "TEMPORARILY_UNAVAILABLE", "busy"), ok({"n": 1}))) as server:
        answer = make(server.url, transport_for).call("POST", "/api/x", body={"a": 1})
    assert answer == {"n": 1}
    assert [s.method for s in server.seen] == ["POST", "POST"]
    assert [orjson.loads(s.body) for s in server.seen] == [{"a": 1}, {"a": 1}]


def test_429_waits_as_long_as_retry_after_says(transport_for: list[HttpTransport]) -> None:
    limited = Reply(429, b"slow down", {"Retry-After": "1", "Content-Type": "text/plain"})
    with serve(script(limited, ok())) as server:
        assert make(server.url, transport_for).call("GET", "/api/x") == {"ok": True}
    first, second = server.seen
    assert second.at - first.at >= 1.0


def test_retry_after_is_capped() -> None:
    retry = WaylineRetry(total=1)
    assert retry.parse_retry_after("86400") == MAX_RETRY_AFTER
    assert retry.parse_retry_after("2") == 2


def test_retries_give_up_with_the_last_answer_decoded(transport_for: list[HttpTransport]) -> None:
    with (
        serve(script(envelope(503, "TEMPORARILY_UNAVAILABLE", "still busy"))) as server,
        pytest.raises(TemporarilyUnavailable, match="still busy"),
    ):
        make(server.url, transport_for).call("POST", "/api/x", body={})
    assert len(server.seen) == 1 + FAST.max_retries
    with (
        serve(script(envelope(429, "REQUEST_LIMIT_EXCEEDED", "too many"))) as server,
        pytest.raises(RequestLimitExceeded, match="too many"),
    ):
        make(server.url, transport_for).call("GET", "/api/x")
    assert len(server.seen) == 1 + FAST.max_retries


@pytest.mark.parametrize("status", [400, 404, 409, 500, 502, 504])
def test_other_statuses_are_never_retried(status: int, transport_for: list[HttpTransport]) -> None:
    with (
        serve(script(Reply(status, b"<html>nope</html>", {"Content-Type": "text/html"}), ok())) as server,
        pytest.raises(WaylineError, match=f"HTTP {status}"),
    ):
        make(server.url, transport_for).call("GET", "/api/x")
    assert len(server.seen) == 1


def test_max_retries_falls_back_to_the_mlflow_variable(
    monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    with (
        serve(script(envelope(503, "TEMPORARILY_UNAVAILABLE", "busy"))) as server,
        pytest.raises(TemporarilyUnavailable),
    ):
        make(server.url, transport_for, config=None).call("GET", "/api/x")
    assert len(server.seen) == 2
    monkeypatch.setenv("WAYLINE_HTTP_REQUEST_MAX_RETRIES", "0")
    with (
        serve(script(envelope(503, "TEMPORARILY_UNAVAILABLE", "busy"))) as server,
        pytest.raises(TemporarilyUnavailable),
    ):
        make(server.url, transport_for, config=None).call("GET", "/api/x")
    assert len(server.seen) == 1


def test_a_dropped_connection_is_retried_even_for_post(transport_for: list[HttpTransport]) -> None:
    with serve(script(Reply(drop=True), ok({"stored": True}))) as server:
        assert make(server.url, transport_for).call("POST", "/api/x", body={"k": "v"}) == {"stored": True}
    assert len(server.seen) == 2


def test_a_read_timeout_is_retried_only_for_idempotent_methods(transport_for: list[HttpTransport]) -> None:
    config = HttpConfig(max_retries=2, backoff_factor=0, backoff_jitter=0, timeout=0.5)
    with serve(script(Reply(hold=True))) as server:
        with pytest.raises(WaylineError, match="No answer") as info:
            make(server.url, transport_for, config=config).call("POST", "/api/log", body={})
        assert info.value.error_code is ErrorCode.DEADLINE_EXCEEDED
        assert len(server.seen) == 1
    with serve(script(Reply(hold=True))) as server:
        with pytest.raises(WaylineError, match="No answer"):
            make(server.url, transport_for, config=config).call("GET", "/api/get")
        assert len(server.seen) == 3


def test_an_unreachable_server_is_temporarily_unavailable(transport_for: list[HttpTransport]) -> None:
    with serve(script(ok())) as server:
        url = server.url
    transport = make(url.replace("http://", "http://alice:s3cret-pw@"), transport_for)
    with pytest.raises(TemporarilyUnavailable, match="Could not reach") as info:
        transport.call("GET", "/api/x")
    assert "s3cret-pw" not in str(info.value)
    assert "alice" not in str(info.value)
    assert url.removeprefix("http://") in str(info.value)


# -- answers ------------------------------------------------------------------------------------------------
def test_the_error_envelope_becomes_the_matching_error(transport_for: list[HttpTransport]) -> None:
    with (
        serve(script(envelope(404, "RESOURCE_DOES_NOT_EXIST", "Run 'abc' not found"))) as server,
        pytest.raises(ResourceNotFound) as info,
    ):
        make(server.url, transport_for).call("GET", "/api/x")
    assert info.value.message == "Run 'abc' not found"
    assert info.value.error_code is ErrorCode.RESOURCE_DOES_NOT_EXIST


def test_a_non_json_error_names_the_status_and_quotes_a_short_excerpt(
    transport_for: list[HttpTransport],
) -> None:
    page = b"<html><body>Bad\x00 gateway\n" + b"x" * 5000 + b"</body></html>"
    with (
        serve(script(Reply(502, page, {"Content-Type": "text/html"}))) as server,
        pytest.raises(TemporarilyUnavailable) as info,
    ):
        make(server.url, transport_for).call("POST", "/api/2.0/mlflow/runs/log-batch", body={})
    message = info.value.message
    assert message.startswith("HTTP 502 from POST /api/2.0/mlflow/runs/log-batch: <html><body>Bad gateway")
    assert len(message) < 300
    assert "\x00" not in message


def test_a_success_that_is_not_json_is_an_error(transport_for: list[HttpTransport]) -> None:
    with (
        serve(script(Reply(200, b"OK", {"Content-Type": "text/plain"}))) as server,
        pytest.raises(WaylineError, match="not a JSON object"),
    ):
        make(server.url, transport_for).call("GET", "/api/x")


def test_an_empty_success_is_an_empty_object(transport_for: list[HttpTransport]) -> None:
    with serve(script(Reply(200, b""))) as server:
        assert make(server.url, transport_for).call("POST", "/api/x", body={}) == {}


def test_redirects_are_not_followed(transport_for: list[HttpTransport]) -> None:
    moved = Reply(302, b"", {"Location": "https://elsewhere.example/api/x"})
    with (
        serve(script(moved, ok())) as server,
        pytest.raises(InvalidParameterValue, match=r"elsewhere\.example"),
    ):
        make(server.url, transport_for).call("POST", "/api/x", body={})
    assert len(server.seen) == 1


def test_requests_carry_json_and_repeated_query_keys(transport_for: list[HttpTransport]) -> None:
    with serve(script(ok())) as server:
        transport = make(server.url + "/prefix/", transport_for)
        transport.call("GET", "/api/get", params={"run_ids": ["a", "b"], "metric_key": "m x", "n": 5})
        transport.call("POST", "/api/post", body={"value": "NaN", "step": 2**62})
    get, post = server.seen
    assert get.path == "/prefix/api/get"
    assert get.query == {"run_ids": ["a", "b"], "metric_key": ["m x"], "n": ["5"]}
    assert post.headers["content-type"] == "application/json"
    assert orjson.loads(post.body) == {"value": "NaN", "step": 2**62}
    assert get.headers["user-agent"].startswith("wayline/")


def test_connections_are_kept_alive_and_closed_with_the_transport(transport_for: list[HttpTransport]) -> None:
    with serve(script(ok())) as server:
        transport = make(server.url, transport_for)
        for _ in range(5):
            transport.call("GET", "/api/x")
        transport.close()
        with pytest.raises(InvalidState, match="closed"):
            transport.call("GET", "/api/x")
    assert len({s.client_port for s in server.seen}) == 1
    assert len(server.seen) == 5


# -- credentials --------------------------------------------------------------------------------------------
def _authorization(seen: Seen) -> str | None:
    return seen.headers.get("authorization")


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("prefix", ["WAYLINE_", "MLFLOW_"])
def test_basic_credentials_from_the_environment(
    prefix: str, monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    monkeypatch.setenv(f"{prefix}TRACKING_USERNAME", "alice")
    monkeypatch.setenv(f"{prefix}TRACKING_PASSWORD", "pa:ss word")
    with serve(script(ok())) as server:
        make(server.url, transport_for, config=None).call("GET", "/api/x")
    assert _authorization(server.seen[0]) == _basic("alice", "pa:ss word")


@pytest.mark.parametrize("prefix", ["WAYLINE_", "MLFLOW_"])
def test_a_token_is_sent_as_bearer_and_wins_over_basic(
    prefix: str, monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    monkeypatch.setenv(f"{prefix}TRACKING_TOKEN", "tok-123")
    monkeypatch.setenv("WAYLINE_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("WAYLINE_TRACKING_PASSWORD", "pw")
    with serve(script(ok())) as server:
        make(server.url, transport_for, config=None).call("GET", "/api/x")
    assert _authorization(server.seen[0]) == "Bearer tok-123"


def test_wayline_variables_win_over_mlflow_ones(
    monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "from-mlflow")
    monkeypatch.setenv("WAYLINE_TRACKING_TOKEN", "from-wayline")
    with serve(script(ok())) as server:
        make(server.url, transport_for, config=None).call("GET", "/api/x")
    assert _authorization(server.seen[0]) == "Bearer from-wayline"


def test_user_info_in_the_url_is_basic_auth_and_never_shown(transport_for: list[HttpTransport]) -> None:
    with serve(script(ok())) as server:
        transport = make(server.url.replace("http://", "http://bob:hunter2@"), transport_for)
        transport.call("GET", "/api/x")
    assert _authorization(server.seen[0]) == _basic("bob", "hunter2")
    assert "hunter2" not in repr(transport) + transport.base_url
    assert "hunter2" not in repr(parse_server_url("http://bob:hunter2@host:5000/p"))


def test_no_credentials_are_sent_when_told_not_to(
    monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_TOKEN", "tok-123")
    with serve(script(ok())) as server:
        make(server.url, transport_for, config=None, credentials=False).call("GET", "/api/x")
        make(server.url, transport_for, config=None).call("GET", "/api/x")
    assert [_authorization(s) for s in server.seen] == [None, "Bearer tok-123"]


def test_credentials_never_appear_in_error_messages(
    monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_USERNAME", "alice")
    monkeypatch.setenv("WAYLINE_TRACKING_PASSWORD", "open-sesame")

    def echo(seen: Seen) -> Reply:  # a proxy that echoes the request headers into its error page
        page = f"denied: {seen.headers.get('authorization')} (password open-sesame)".encode()
        return Reply(401, page, {"Content-Type": "text/plain"})

    with serve(echo) as server, pytest.raises(WaylineError) as info:
        make(server.url, transport_for, config=None).call("GET", "/api/x")
    text = str(info.value)
    assert info.value.error_code is ErrorCode.UNAUTHENTICATED
    assert "open-sesame" not in text
    assert base64.b64encode(b"alice:open-sesame").decode() not in text
    assert "WAYLINE_TRACKING_TOKEN" in text
    assert "***" in text


def test_half_configured_basic_auth_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAYLINE_TRACKING_USERNAME", "alice")
    with pytest.raises(InvalidParameterValue, match="WAYLINE_TRACKING_PASSWORD"):
        HttpConfig.from_env()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("WAYLINE_HTTP_REQUEST_MAX_RETRIES", "many"),
        ("WAYLINE_HTTP_REQUEST_MAX_RETRIES", "-1"),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "-2"),
        ("WAYLINE_HTTP_REQUEST_BACKOFF_JITTER", "nan"),
        ("WAYLINE_HTTP_REQUEST_TIMEOUT", "0"),
        ("WAYLINE_TRACKING_INSECURE_TLS", "maybe"),
    ],
)
def test_bad_settings_name_their_variable(name: str, value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAYLINE_HTTP_REQUEST_BACKOFF_FACTOR")
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidParameterValue, match=name):
        HttpConfig.from_env()


def test_settings_and_their_mlflow_fallbacks_are_read() -> None:
    config = HttpConfig.from_env(
        {
            "MLFLOW_HTTP_REQUEST_TIMEOUT": "7.5",
            "WAYLINE_HTTP_REQUEST_MAX_RETRIES": "2",
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "9",
            "MLFLOW_TRACKING_SERVER_CERT_PATH": "/etc/ca.pem",
            "WAYLINE_TRACKING_PASSWORD": "pw",
            "MLFLOW_TRACKING_USERNAME": "u",
        }
    )
    assert (config.timeout, config.max_retries, config.server_cert_path) == (7.5, 2, "/etc/ca.pem")
    assert (config.username, config.password) == ("u", "pw")
    assert "pw" not in repr(config).replace("pool_maxsize", "")
    assert HttpConfig.from_env({}) == HttpConfig()


@pytest.mark.parametrize(
    "url",
    ["ftp://host", "http://", "http://host:99999", "http://host/?q=1", "http://host/#f", "http://ho\tst", ""],
)
def test_bad_server_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidParameterValue, match="tracking_uri"):
        parse_server_url(url)


# -- TLS ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def test_tls_is_verified_against_the_configured_ca(
    certificates: Certificates, monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    certs = certificates
    with serve(script(ok()), tls=certs.server_context()) as server:
        assert server.url.startswith("https://")
        with pytest.raises(WaylineError, match="WAYLINE_TRACKING_SERVER_CERT_PATH") as info:
            make(server.url, transport_for, config=None).call("GET", "/api/x")
        assert info.value.error_code is ErrorCode.IO_ERROR
        monkeypatch.setenv("WAYLINE_TRACKING_SERVER_CERT_PATH", str(certs.ca))
        assert make(server.url, transport_for, config=None).call("GET", "/api/x") == {"ok": True}


def test_insecure_tls_skips_verification_without_warnings(
    certificates: Certificates, monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    certs = certificates
    monkeypatch.setenv("MLFLOW_TRACKING_INSECURE_TLS", "true")
    with serve(script(ok()), tls=certs.server_context()) as server, warnings.catch_warnings():
        warnings.simplefilter("error")
        transport = make(server.url, transport_for, config=None)
        assert transport.call("GET", "/api/x") == {"ok": True}
    monkeypatch.setenv("WAYLINE_TRACKING_SERVER_CERT_PATH", str(certs.ca))
    with pytest.raises(InvalidParameterValue, match="cannot both be set"):
        HttpConfig.from_env()


def test_a_client_certificate_is_presented(
    certificates: Certificates, monkeypatch: pytest.MonkeyPatch, transport_for: list[HttpTransport]
) -> None:
    certs = certificates
    monkeypatch.setenv("WAYLINE_TRACKING_SERVER_CERT_PATH", str(certs.ca))
    with serve(script(ok()), tls=certs.server_context(require_client_cert=True)) as server:
        with pytest.raises(WaylineError):
            make(server.url, transport_for, config=None).call("GET", "/api/x")
        assert server.seen == []
        monkeypatch.setenv("MLFLOW_TRACKING_CLIENT_CERT_PATH", str(certs.client))
        assert make(server.url, transport_for, config=None).call("GET", "/api/x") == {"ok": True}
    assert len(server.seen) == 1
