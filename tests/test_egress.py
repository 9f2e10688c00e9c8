"""hub.egress: the guarded HTTP client of provider checks.

Real sockets on loopback only. Requests to anything else must be refused before a connection is
attempted; tests that need other names or addresses give them through a fake resolver (the
stdlib's getaddrinfo replaced), never through the network.
"""
import datetime
import ipaddress
import socket
import ssl
import threading
import time
from contextlib import contextmanager

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.egress import AllowList, EgressClient, EgressError, is_public_address
from hub.testing import FakeProvider

TIMEOUT = 1.0


@pytest.fixture
def strict_client():
    """The hub's default policy: nothing but public addresses, over https."""
    return EgressClient(timeout=TIMEOUT)


@pytest.fixture
def fake_dns(monkeypatch):
    """Resolve chosen names to chosen addresses; count the lookups of each name.

    `fake_dns.names[name]` is a list of answers (each a list of addresses, or an exception to
    raise, or a callable); lookup n gets answer n (the last one repeats).
    """
    real_getaddrinfo = socket.getaddrinfo

    class FakeDNS:
        def __init__(self):
            self.names = {}
            self.lookups = {}

        def getaddrinfo(self, host, port, *args, **kwargs):
            if host not in self.names:
                return real_getaddrinfo(host, port, *args, **kwargs)
            count = self.lookups.get(host, 0)
            self.lookups[host] = count + 1
            answers = self.names[host]
            answer = answers[min(count, len(answers) - 1)]
            if isinstance(answer, BaseException):
                raise answer
            if callable(answer):
                answer = answer()
            infos = []
            for address in answer:
                family = socket.AF_INET6 if ":" in address else socket.AF_INET
                sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
                infos.append((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
            return infos

    dns = FakeDNS()
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns


@contextmanager
def raw_server(serve):
    """A one-connection TCP server on 127.0.0.1 running `serve(conn, stop_event)`."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def run():
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        with conn:
            try:
                serve(conn, stop)
            except OSError:
                pass  # the client went away: expected in timeout tests

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def refused_port():
    """A loopback port on which nothing listens."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def request_error(client, url, **kwargs) -> EgressError:
    with pytest.raises(EgressError) as caught:
        client.request("GET", url, **kwargs)
    return caught.value


# --- the address policy ---------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://localhost/",
    "https://127.0.0.1/",
    "https://[::1]/",
    "https://10.1.2.3/",
    "https://172.16.5.4/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[fd00:ec2::254]/",
    "https://[fe80::1]/",
    "https://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
    "https://[2002:7f00:1::]/",  # 6to4 carrying 127.0.0.1
    "https://[64:ff9b::a00:1]/",  # NAT64 carrying 10.0.0.1
    "https://2130706433/",  # 127.0.0.1 spelled as one decimal number
    "https://0x7f.1/",  # ... in hex, short form
    "https://0177.0.0.1/",  # ... in octal
    "https://100.64.0.1/",  # CGNAT
    "https://0.0.0.0/",
    "https://224.0.0.1/",  # multicast
    "https://240.0.0.1/",  # reserved
])
def test_non_public_addresses_are_refused_without_an_allow_list(strict_client, url):
    started = time.monotonic()
    error = request_error(strict_client, url)
    assert error.code == "blocked_address"
    assert "HUB_VERIFY_ALLOW_HOSTS" in error.message or "metadata" in error.message
    assert time.monotonic() - started < 0.5  # refused, not attempted


def test_every_resolved_address_must_be_public(strict_client, fake_dns):
    fake_dns.names["mixed.test"] = [["93.184.215.14", "10.0.0.7"]]
    error = request_error(strict_client, "https://mixed.test/")
    assert error.code == "blocked_address"
    assert "mixed.test" in error.message and "10.0.0.7" in error.message


def test_metadata_addresses_are_refused_even_when_their_network_is_allowed():
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("169.254.0.0/16, 100.64.0.0/10"))
    for url in ("http://169.254.169.254/", "http://100.100.100.200/"):
        error = request_error(client, url)
        assert error.code == "blocked_address" and "metadata" in error.message


def test_an_allowed_name_does_not_admit_other_spellings_of_its_address(fake_provider):
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("localhost"))
    error = request_error(client, f"http://2130706433:{fake_provider.port}/")
    assert error.code == "blocked_address"
    assert fake_provider.requests == []


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True),
    ("2606:4700:4700::1111", True),
    ("64:ff9b::808:808", True),  # NAT64 carrying a public address: judged by that address
    ("192.0.0.192", False),  # Oracle Cloud metadata, global to `ipaddress`
    ("ff02::1", False),
    ("2001::1", False),  # Teredo
    ("::127.0.0.1", False),  # IPv4-compatible, deprecated
    ("fec0::1", False),  # site-local, deprecated but still routed inside some networks
])
def test_is_public_address(address, public):
    assert is_public_address(ipaddress.ip_address(address)) is public


# --- the allow list -------------------------------------------------------------------------

def test_allow_list_parses_names_addresses_and_networks():
    allow = AllowList.parse(" Jira.Corp.example., 10.0.0.0/8 [::1]\n192.168.1.5 ")
    assert allow.allows_name("jira.corp.example")
    assert not allow.allows_name("corp.example")
    assert allow.allows_address(ipaddress.ip_address("10.20.30.40"))
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert allow.allows_address(ipaddress.ip_address("192.168.1.5"))
    assert allow.allows_address(ipaddress.ip_address("::ffff:10.0.0.1"))
    assert not allow.allows_address(ipaddress.ip_address("192.168.1.6"))
    assert not AllowList.parse("") and not AllowList.parse(None)


def test_allow_list_refuses_a_malformed_entry():
    with pytest.raises(ValueError, match="HUB_VERIFY_ALLOW_HOSTS.*'jira:8080'"):
        AllowList.parse("localhost jira:8080")


def test_allowed_network_admits_plain_http(fake_provider):
    fake_provider.expect_request("/ping").respond_with_json({"pong": True})
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.0/8"))
    response = client.request("GET", fake_provider.url_for("/ping"))
    assert response.status == 200 and response.json() == {"pong": True}


def test_allowed_name_admits_plain_http_and_keeps_the_host_header(fake_provider):
    fake_provider.expect_request("/ping").respond_with_data("pong")
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("localhost"))
    response = client.request("GET", f"http://localhost:{fake_provider.port}/ping")
    assert response.body == b"pong"
    assert fake_provider.last_request.headers["Host"] == f"localhost:{fake_provider.port}"


# --- scheme and URL -------------------------------------------------------------------------

def test_plain_http_is_refused_for_a_host_that_is_not_allowed(strict_client, fake_dns):
    fake_dns.names["api.example.test"] = [["93.184.215.14"]]
    error = request_error(strict_client, "http://api.example.test/user")
    assert error.code == "blocked_address" and "https" in error.message
    assert fake_dns.lookups == {}  # refused before any lookup


def test_plain_http_to_a_public_address_is_refused_when_only_other_networks_are_allowed(fake_dns):
    fake_dns.names["api.example.test"] = [["93.184.215.14"]]
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.0/8"))
    error = request_error(client, "http://api.example.test/user")
    assert error.code == "blocked_address" and "https" in error.message


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://127.0.0.1:70/", "ftp://x.test/"])
def test_other_schemes_are_refused(egress_client, url):
    assert request_error(egress_client, url).code == "blocked_address"


def test_urls_with_user_info_are_refused_without_echoing_it(egress_client, fake_provider):
    error = request_error(egress_client, f"http://admin:hunter2@127.0.0.1:{fake_provider.port}/")
    assert error.code == "blocked_address"
    assert "hunter2" not in error.message and "hunter2" not in repr(error)
    assert fake_provider.requests == []


# --- the connection -------------------------------------------------------------------------

def test_connects_to_the_checked_address_without_a_second_lookup(fake_provider, fake_dns):
    # A rebinding resolver: a later lookup would answer another loopback address, on which
    # nothing listens, so a second lookup would show as a failed request.
    fake_dns.names["rebind.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    fake_provider.expect_request("/ping").respond_with_data("pong")
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.1"))

    response = client.request("GET", f"http://rebind.test:{fake_provider.port}/ping")

    assert response.body == b"pong"
    assert fake_dns.lookups == {"rebind.test": 1}
    assert fake_provider.last_request.headers["Host"] == f"rebind.test:{fake_provider.port}"


def test_tries_the_next_checked_address_when_one_refuses(fake_provider, fake_dns):
    fake_dns.names["multi.test"] = [["127.0.0.2", "127.0.0.1"]]  # nothing on 127.0.0.2
    fake_provider.expect_request("/ping").respond_with_data("pong")
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.0/8"))
    assert client.request("GET", f"http://multi.test:{fake_provider.port}/ping").body == b"pong"


def test_redirects_are_returned_not_followed(egress_client, fake_provider):
    fake_provider.redirect("/start", fake_provider.url_for("/elsewhere"))
    fake_provider.expect_request("/elsewhere").respond_with_data("should not be reached")

    response = egress_client.request("GET", fake_provider.url_for("/start"))

    assert response.status == 302
    assert response.headers["location"].endswith("/elsewhere")
    assert [r.path for r in fake_provider.requests] == ["/start"]


def test_sends_json_and_headers_and_reads_headers_case_insensitively(egress_client, fake_provider):
    fake_provider.expect_request("/echo", method="POST", json={"a": 1}).respond_with_data(
        "ok", headers={"X-OAuth-Scopes": "repo"})

    response = egress_client.request("POST", fake_provider.url_for("/echo"), json={"a": 1},
                                     headers={"Authorization": "Bearer t0ken"})

    sent = fake_provider.last_request
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Authorization"] == "Bearer t0ken"
    assert response.headers["x-oauth-scopes"] == "repo"
    assert "t0ken" not in repr(response) and "ok" not in repr(response)


def test_body_is_capped(fake_provider):
    fake_provider.expect_request("/big").respond_with_data(b"x" * 5000, status=401)
    fake_provider.expect_request("/small").respond_with_json({"fits": True})
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.1"), max_body=1000)

    big = client.request("GET", fake_provider.url_for("/big"))
    assert big.status == 401 and len(big.body) == 1000 and big.truncated
    with pytest.raises(ValueError):
        big.json()

    small = client.request("GET", fake_provider.url_for("/small"))
    assert small.json() == {"fits": True} and not small.truncated


def test_a_refused_connection_is_unreachable(egress_client):
    error = request_error(egress_client, f"http://127.0.0.1:{refused_port()}/")
    assert error.code == "unreachable"


def test_errors_never_carry_the_path_or_query(egress_client):
    url = f"http://127.0.0.1:{refused_port()}/services/T0/B0/s3cretpath?token=s3cretquery"
    error = request_error(egress_client, url)
    assert "s3cret" not in str(error) and "s3cret" not in repr(error)
    # No underlying exception (which may quote the URL) rides along in a traceback.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_a_header_value_with_a_line_break_is_refused_without_echoing_it(egress_client,
                                                                         fake_provider):
    error = request_error(egress_client, fake_provider.url_for("/"),
                          headers={"Authorization": "Bearer abc\r\nX-Evil: 1"})
    assert error.code == "unreachable" and "abc" not in error.message
    assert fake_provider.requests == []


def test_a_name_that_does_not_resolve_is_unreachable(egress_client, fake_dns):
    fake_dns.names["nx.test"] = [socket.gaierror(socket.EAI_NONAME, "Name or service not known")]
    error = request_error(egress_client, "https://nx.test/")
    assert error.code == "unreachable" and "nx.test" in error.message


# --- one deadline -----------------------------------------------------------------------------

def test_a_slow_lookup_is_a_timeout(egress_client, fake_dns):
    fake_dns.names["slow.test"] = [lambda: time.sleep(2 * TIMEOUT) or ["127.0.0.1"]]
    started = time.monotonic()
    assert request_error(egress_client, "http://slow.test/").code == "timeout"
    assert time.monotonic() - started < TIMEOUT + 0.5


def test_a_server_that_never_answers_is_a_timeout(egress_client):
    with raw_server(lambda conn, stop: stop.wait(10)) as port:
        started = time.monotonic()
        error = request_error(egress_client, f"http://127.0.0.1:{port}/")
    assert error.code == "timeout"
    assert time.monotonic() - started < TIMEOUT + 0.5


def trickle(data: bytes, interval: float):
    def serve(conn, stop):
        conn.recv(65536)
        for index in range(len(data)):
            if stop.wait(interval):
                return
            conn.sendall(data[index:index + 1])
    return serve


@pytest.mark.parametrize("reply", [
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Padding: " + b"p" * 100 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n" + b"b" * 200,
], ids=["trickled headers", "trickled body"])
def test_a_server_that_trickles_bytes_cannot_extend_the_deadline(egress_client, reply):
    # Each byte comes well within any per-read timeout; only an overall deadline stops this.
    with raw_server(trickle(reply, 0.05)) as port:
        started = time.monotonic()
        error = request_error(egress_client, f"http://127.0.0.1:{port}/")
    assert error.code == "timeout"
    assert time.monotonic() - started < TIMEOUT + 0.5


# --- TLS --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    """A test CA, a server certificate for hub-tls.test signed by it, and both SSL contexts."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)

    def certificate(subject, issuer, public_key, signing_key, *, ca, names=()):
        builder = (x509.CertificateBuilder()
                   .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
                   .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
                   .public_key(public_key).serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        if ca:
            builder = builder.add_extension(x509.KeyUsage(
                digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                key_encipherment=False, data_encipherment=False, key_agreement=False,
                encipher_only=False, decipher_only=False), critical=True)
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        return builder.sign(signing_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = certificate("hub test CA", "hub test CA", ca_key.public_key(), ca_key, ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = certificate("hub-tls.test", "hub test CA", server_key.public_key(), ca_key,
                              ca=False, names=["hub-tls.test"])

    (directory / "ca.pem").write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))

    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(directory / "server.pem", directory / "server.key")
    client_context = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    return server_context, client_context


@pytest.fixture
def tls_server(tls):
    server_context, _ = tls
    server_names = []
    server_context.sni_callback = lambda sslobj, name, context: server_names.append(name)
    with FakeProvider(ssl_context=server_context) as server:
        server.server_names = server_names
        yield server
    server_context.sni_callback = None


def test_tls_uses_the_url_name_for_sni_and_the_certificate_check(tls, tls_server, fake_dns):
    fake_dns.names["hub-tls.test"] = [["127.0.0.1"]]
    tls_server.expect_request("/user").respond_with_json({"login": "octocat"})
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.1"),
                          ssl_context=tls[1])

    response = client.request("GET", f"https://hub-tls.test:{tls_server.port}/user")

    assert response.json() == {"login": "octocat"}
    assert tls_server.server_names == ["hub-tls.test"]
    assert tls_server.last_request.headers["Host"] == f"hub-tls.test:{tls_server.port}"


def test_tls_refuses_a_certificate_for_another_name(tls, tls_server, fake_dns):
    fake_dns.names["other.test"] = [["127.0.0.1"]]
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.1"),
                          ssl_context=tls[1])

    error = request_error(client, f"https://other.test:{tls_server.port}/user")

    assert error.code == "unreachable"
    assert "other.test" in error.message and "certificate" in error.message
    assert tls_server.requests == []


def test_tls_refuses_an_untrusted_certificate(tls_server, fake_dns):
    fake_dns.names["hub-tls.test"] = [["127.0.0.1"]]
    client = EgressClient(timeout=TIMEOUT, allow=AllowList.parse("127.0.0.1"))  # system CAs
    error = request_error(client, f"https://hub-tls.test:{tls_server.port}/user")
    assert error.code == "unreachable" and "certificate" in error.message
