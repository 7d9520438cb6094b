"""The Ray session a training command runs in: a local one, or an existing cluster."""

from __future__ import annotations

import logging
import os

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
    try:
        if address is None:
            ray.init(
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


def cluster_cpus() -> int:
    """CPUs the Ray session offers (the cluster's, for --address)."""
    import ray

    return int(ray.cluster_resources().get("CPU", 0))
