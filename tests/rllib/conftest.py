"""One local Ray session (2 CPUs) shared by every RLlib test: starting Ray takes seconds."""

from collections.abc import Iterator

import pytest

pytest.importorskip("ray.rllib", reason="the scale extra (ray[rllib]) is not installed")


@pytest.fixture(scope="session")
def ray_session() -> Iterator[None]:
    import ray

    from smartcharging.rllib.registration import register_envs
    from smartcharging.rllib.session import ensure_ray

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    ensure_ray()  # quiets RLlib's warnings, uses the session just started
    register_envs()
    yield
    ray.shutdown()
