"""Learning agents: tabular Q-learning (NumPy) and Stable-Baselines3 DQN/PPO/A2C, the one
run lifecycle of every engine (``run_directory``), how checkpoints are scored
(``checkpoint_scores``), what every engine's learner sees (``training_adapter``), loading
without pickle (``safe_loading``, ``sb3_loading``) and tuning (``tuning``).

Importing this package does not import torch; :mod:`smartcharging.agents.sb3_agents` does.
"""

from smartcharging.agents.qlearning import QLearningAgent, QLearningParams
from smartcharging.agents.run_directory import RunError
from smartcharging.agents.runs import ALGORITHMS, Run, RunSpec, load_policy

__all__ = [
    "ALGORITHMS",
    "QLearningAgent",
    "QLearningParams",
    "Run",
    "RunError",
    "RunSpec",
    "load_policy",
]
