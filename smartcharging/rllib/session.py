"""The Ray session a training command runs in: a local one, or an existing cluster."""

from __future__ import annotations

import logging
import os
import re
import socket

from smartcharging.agents.run_directory import RunError
from smartcharging.config.validation import shorten

#: The forms of a cluster address, as the error names them.
ADDRESS_FORMS = "auto, HOST:PORT or ray://HOST:PORT"
#: Ray client addresses; the rest of the address is HOST:PORT.
RAY_CLIENT = "ray://"


def ensure_ray(address: str | None = None) -> None:
    """Use the Ray session already started in this process; else connect to the cluster at
    ``address`` (``"auto"``: the one ``ray start --head`` started on this machine); else
    start a local Ray with this machine's cores."""
    import ray

    # RLlib announces its new API stack and missing GPU tools as warnings on every build.
    logging.getLogger("ray.rllib").setLevel(logging.ERROR)
    if ray.is_initialized():
        return
    if address is not None:
        check_address(address)
        check_reachable(address)
    try:
        if address is None:
            ray.init(
                address="local",  # a new Ray of this process, even if a cluster runs here
                num_cpus=os.cpu_count() or 1,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
            )
        else:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except ConnectionError as error:
        raise RunError(
            f"--address {address}: cannot connect to a Ray cluster ({error}); start one with "
            "`ray start --head` or leave --address out for a local Ray"
        ) from None


def check_address(address: str) -> str:
    """``address`` if it is ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT`` with a host and
    a port in 1..65535; a ``ValueError`` naming it otherwise. Checked before Ray starts:
    Ray retries a port it cannot use for minutes and answers an empty host with a
    traceback."""
    shown = shorten(repr(address))
    if address == "auto":
        return address
    host, colon, port = address.removeprefix(RAY_CLIENT).rpartition(":")
    if not colon:
        raise ValueError(f"{shown} is not {ADDRESS_FORMS}")
    if not host:
        raise ValueError(f"{shown} has no host: expected {ADDRESS_FORMS}")
    if any(not c.isprintable() or c.isspace() for c in host):
        raise ValueError(f"invalid host in {shown}: it has spaces or control characters")
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        raise ValueError(
            f"invalid port {shorten(repr(port))} in {shown}: must be an integer in 1..65535"
        )
    return address


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse a ``HOST:PORT`` address (checked by :func:`check_address`) that nothing
    answers on within ``timeout_s``: Ray itself retries such an address for minutes.
    (``auto`` and ``ray://`` addresses are left to Ray, which fails fast on them.)"""
    if address == "auto" or address.startswith(RAY_CLIENT):
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise RunError(
            f"--address {address}: no Ray cluster answers there ({error.strerror or error}); "
            "start one with `ray start --head` or leave --address out for a local Ray"
        ) from None
