"""The seed notebook's environment with only its syntax and API bugs fixed.

Kept as literal as possible (global-style draws replaced by injected values) so tests can
check that SmartCharging-v0 returns the same total per episode for the same draws.
"""

import math


class NotebookSmartCharging:
    def __init__(self, start_battery: int, demand: float) -> None:
        self.actions_to_kw = [0, 7, 14, 22]
        self.battery_capacity = 72
        self.time_step = 0
        self.time_slot = 0.25
        self.battery_status: float = start_battery
        self._demand = demand

    def step(self, action: int) -> tuple[dict[str, float], float, bool]:
        terminated = False
        if self.time_step == 8:
            energy_demand = self._demand
            penalty_factor = 10
            if energy_demand > self.battery_status:
                self.battery_status = 0
                sum_of_time_coeffs = 2
                reward = (
                    (-1) * sum_of_time_coeffs * math.exp(self.actions_to_kw[3]) * penalty_factor
                )
            else:
                self.battery_status -= energy_demand
                reward = 0
            terminated = True
        else:
            charged_kwh = self.time_slot * self.actions_to_kw[action]
            time_coeff = self.time_slot
            if self.battery_status + charged_kwh > self.battery_capacity:
                charged_kwh = self.battery_capacity - self.battery_status
                time_coeff = charged_kwh / self.actions_to_kw[action]
            self.battery_status += charged_kwh
            self.time_step += 1
            reward = (-1) * time_coeff * math.exp(self.actions_to_kw[action])
        return (
            {"battery status": self.battery_status, "time step": self.time_step},
            reward,
            terminated,
        )
