import numpy as np
from scipy import stats

from smartcharging.config.vehicle import ChargingConfig
from smartcharging.sim import episode_draws


def test_draws_follow_the_configured_distributions() -> None:
    cfg = ChargingConfig()
    episodes = np.arange(50_000, dtype=np.uint64)
    keys = np.full(episodes.shape, 12345, dtype=np.uint64)
    levels = episode_draws.arrival_levels(cfg, keys, episodes)
    counts = np.bincount(levels.astype(int), minlength=73)
    assert set(np.unique(levels)) <= set(cfg.start_levels_kwh)
    assert stats.chisquare(counts).pvalue > 0.001
    demand = episode_draws.demands(cfg, keys, episodes)
    assert stats.kstest(demand, stats.norm(30, 5).cdf).pvalue > 0.001


def test_draws_do_not_depend_on_batch_position() -> None:
    cfg = ChargingConfig()
    keys = np.array([7, 7, 99, 7], dtype=np.uint64)
    episodes = np.array([3, 0, 3, 3], dtype=np.uint64)
    together = episode_draws.demands(cfg, keys, episodes)
    alone = [episode_draws.demands(cfg, keys[i : i + 1], episodes[i : i + 1])[0] for i in range(4)]
    assert together.tolist() == alone
    assert together[0] == together[3] != together[2]
