"""Ray RLlib: the environments registered for RLlib's env runners, RLlib training runs with
the project's run-directory contract, and RLlib policies read back without unpickling.

Ray RLlib and torch are the optional ``scale`` extra (``pip install "smartcharging[scale]"``);
only the modules of this package import them, and only when a run trains or loads.
"""
