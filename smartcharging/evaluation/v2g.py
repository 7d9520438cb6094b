"""What vehicle-to-grid is worth: the exact optimum with V2G against the exact optimum of
the same vehicle without it, night by night and split into its parts.

Both figures are exact expected values (backward induction and the forward pass of the
state distribution), so the value of V2G carries no sampling noise; per year it is the
mean over the scenario's price nights times 365.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from smartcharging.config import ChargingConfig
from smartcharging.evaluation.vehicle import PolicyReport

#: Nights per year, for the yearly figure.
NIGHTS_PER_YEAR = 365


@dataclass(frozen=True)
class V2gValue:
    """Expected gain of V2G per episode, in the scenario's currency, and its parts.

    Each part is the V2G optimum's figure minus the charge-only optimum's, signed so that a
    positive number is a gain: ``energy`` (the bill net of export revenue), of which
    ``export_revenue`` is earned by discharging; ``wear`` (power-dependent), ``cycle_ageing``
    (throughput), ``shortfall`` (the expected cost of running short: the risk taken) and
    ``energy_left`` (the credit for the energy left after the shift).
    ``per_night`` holds the total gain of each price night.
    """

    total: float
    energy: float
    export_revenue: float
    wear: float
    cycle_ageing: float
    shortfall: float
    energy_left: float
    discharged_kwh: float
    per_night: np.ndarray
    labels: tuple[str, ...]

    @property
    def per_year(self) -> float:
        return self.total * NIGHTS_PER_YEAR

    def parts(self) -> dict[str, float]:
        """The parts, by name, in the order they add up to ``total``."""
        return {
            "energy (net of export revenue)": self.energy,
            "wear (power)": self.wear,
            "cycle ageing (throughput)": self.cycle_ageing,
            "shortfall risk": self.shortfall,
            "energy left after the shift": self.energy_left,
        }

    def as_dict(self) -> dict[str, object]:
        return {
            "value_per_night": self.total,
            "value_per_year": self.per_year,
            "energy": self.energy,
            "export_revenue": self.export_revenue,
            "wear": self.wear,
            "cycle_ageing": self.cycle_ageing,
            "shortfall": self.shortfall,
            "energy_left": self.energy_left,
            "discharged_kwh_per_night": self.discharged_kwh,
            "nights_with_gain": int((self.per_night > 1e-9).sum()),
            "best_night": self.labels[int(np.argmax(self.per_night))],
            "best_night_value": float(self.per_night.max()),
        }


def v2g_value(
    config: ChargingConfig, with_v2g: PolicyReport, without_v2g: PolicyReport
) -> V2gValue:
    """The value of V2G from the exact reports of the optimum and the charge-only optimum
    (``compare`` computes both)."""
    if not config.v2g:
        raise ValueError("the value of V2G needs a V2G configuration (v2g=True)")
    a, b = with_v2g.exact, without_v2g.exact
    assert with_v2g.profile_returns is not None and without_v2g.profile_returns is not None
    return V2gValue(
        total=a.expected_return - b.expected_return,
        energy=b.expected_energy_cost - a.expected_energy_cost,
        export_revenue=a.expected_export_revenue - b.expected_export_revenue,
        wear=b.expected_wear_cost - a.expected_wear_cost,
        cycle_ageing=b.expected_degradation_cost - a.expected_degradation_cost,
        shortfall=b.expected_shortfall_cost - a.expected_shortfall_cost,
        energy_left=a.expected_residual_value - b.expected_residual_value,
        discharged_kwh=a.expected_discharged_kwh,
        per_night=with_v2g.profile_returns - without_v2g.profile_returns,
        labels=config.profile_labels,
    )
