import pytest
from django.test import RequestFactory

from apps.core.client_ip import client_ip

factory = RequestFactory()


def request_from(peer, forwarded=None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return factory.get("/", REMOTE_ADDR=peer, **headers)


def test_without_trusted_proxy_a_forwarded_header_is_ignored(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 0
    assert client_ip(request_from("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


def test_with_one_proxy_the_address_it_appended_is_the_client(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    # The client wrote "6.6.6.6" itself; our proxy appended the real peer, 198.51.100.9.
    request = request_from("10.0.0.2", "6.6.6.6, 198.51.100.9")
    assert client_ip(request) == "198.51.100.9"


def test_with_two_proxies_the_entry_two_from_the_right_is_the_client(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 2
    request = request_from("10.0.0.2", "6.6.6.6, 198.51.100.9, 10.0.0.1")
    assert client_ip(request) == "198.51.100.9"


@pytest.mark.parametrize("forwarded", ["", "not-an-address", "  "])
def test_an_unusable_forwarded_header_falls_back_to_the_peer(settings, forwarded):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    assert client_ip(request_from("198.51.100.20", forwarded)) == "198.51.100.20"


def test_fewer_hops_than_trusted_proxies_falls_back_to_the_peer(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 3
    assert client_ip(request_from("198.51.100.20", "6.6.6.6")) == "198.51.100.20"


def test_ipv6_addresses_are_written_in_one_canonical_form(settings):
    settings.PORTAL_TRUSTED_PROXY_COUNT = 1
    request = request_from("::1", "[2001:DB8:0:0::1]")
    assert client_ip(request) == "2001:db8::1"
