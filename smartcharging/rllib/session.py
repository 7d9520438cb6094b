"""The Ray session a training command runs in: a local one, or an existing cluster."""

from __future__ import annotations

import logging
import os
import socket

from smartcharging.agents.run_directory import RunError


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


def check_reachable(address: str, timeout_s: float = 5.0) -> None:
    """Refuse a ``host:port`` address that nothing answers on within ``timeout_s``: Ray
    itself retries such an address for minutes. (``auto`` and ``ray://`` addresses are
    left to Ray, which fails fast on them.)"""
    host, _, port = address.rpartition(":")
    if address == "auto" or "://" in address or not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as error:
        raise RunError(
            f"--address {address}: no Ray cluster answers there ({error.strerror or error}); "
            "start one with `ray start --head` or leave --address out for a local Ray"
        ) from None
