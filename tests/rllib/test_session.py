"""The Ray session: a cluster address is checked before Ray sees it."""

import pytest

from smartcharging.rllib.session import check_address


@pytest.mark.parametrize(
    "address", ["auto", "localhost:6379", "10.0.0.1:1", "[::1]:65535", "ray://head:10001"]
)
def test_cluster_addresses_pass(address: str) -> None:
    assert check_address(address) == address


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("localhost:-1", "invalid port '-1' in 'localhost:-1': must be an integer in 1..65535"),
        ("localhost:0", "must be an integer in 1..65535"),
        ("localhost:065536", "invalid port '065536'"),
        ("localhost:²", "invalid port '²'"),
        (":6379", "':6379' has no host: expected auto, HOST:PORT or ray://HOST:PORT"),
        ("ray://:10001", "has no host"),
        ("local host:1", "invalid host in 'local host:1'"),
        ("localhost", "'localhost' is not auto, HOST:PORT or ray://HOST:PORT"),
        ("", "'' is not auto"),
        ("h:" + "9" * 5000, "invalid port '99999"),
    ],
)
def test_malformed_addresses_are_refused_before_ray_starts(address: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        check_address(address)
    assert len(str(error.value)) < 300
