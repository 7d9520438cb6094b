import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from smartcharging.config.seed_costs import cost_rate, shortfall_penalty
from smartcharging.sim import dynamics

levels = st.floats(0, 200, allow_nan=False)
powers = st.sampled_from([0.0, 3.7, 7.0, 11.0, 22.0, 50.0])
slots = st.sampled_from([0.25, 0.5, 1.0 / 3.0, 1.0])


def test_normal_slot_adds_power_times_hours() -> None:
    assert dynamics.charge_slot(10.0, 7.0, 72.0, 0.25) == (11.75, 1.75, 0.25)


def test_slot_that_fills_the_battery_charges_part_of_the_slot() -> None:
    battery, energy, hours = dynamics.charge_slot(71.0, 22.0, 72.0, 0.25)
    assert (battery, energy, hours) == (72.0, 1.0, 1.0 / 22.0)


def test_idle_and_full_battery_quirks() -> None:
    assert dynamics.charge_slot(72.0, 0.0, 72.0, 0.25) == (72.0, 0.0, 0.25)
    assert dynamics.charge_slot(72.0, 14.0, 72.0, 0.25) == (72.0, 0.0, 0.0)


def test_departure_both_branches() -> None:
    assert dynamics.depart(40.0, 30.5, 99.0) == (9.5, 0.0, False, 0.0)
    assert dynamics.depart(20.0, 30.5, 99.0) == (0.0, 10.5, True, 99.0)


def test_seed_penalty_is_notebooks() -> None:
    rate = float(cost_rate(22.0))
    assert shortfall_penalty(8, 0.25, rate, 10.0) == 2 * math.exp(22) * 10


@given(battery=levels, power=powers, slot=slots, extra=st.floats(0, 100))
def test_charge_slot_properties(battery: float, power: float, slot: float, extra: float) -> None:
    capacity = battery + extra
    after, energy, hours = dynamics.charge_slot(battery, power, capacity, slot)
    assert 0 <= after <= capacity
    assert 0 <= energy <= power * slot
    assert 0 <= hours <= slot
    assert math.isclose(after, battery + energy, rel_tol=1e-12, abs_tol=1e-12)
    if power > 0:
        assert math.isclose(energy, power * hours, rel_tol=1e-12, abs_tol=1e-12)


@given(
    battery=st.lists(levels, min_size=1, max_size=20),
    power=powers,
    slot=slots,
)
def test_arrays_agree_with_floats_bit_for_bit(
    battery: list[float], power: float, slot: float
) -> None:
    capacity = 150.0
    battery = [min(b, capacity) for b in battery]
    batch = dynamics.charge_slot(np.array(battery), np.full(len(battery), power), capacity, slot)
    for i, b in enumerate(battery):
        scalar = dynamics.charge_slot(b, power, capacity, slot)
        assert tuple(float(x[i]) for x in batch) == scalar
    demand = np.linspace(0, 120, len(battery))
    batch_out = dynamics.depart(np.array(battery), demand, 7.0)
    for i, b in enumerate(battery):
        scalar_out = dynamics.depart(b, float(demand[i]), 7.0)
        assert tuple(float(x[i]) for x in batch_out) == tuple(float(x) for x in scalar_out)


def test_discharge_stops_at_the_reserve_and_not_below_it() -> None:
    assert dynamics.discharge_slot(30.0, -11.0, 20.0, 0.25) == (27.25, -2.75, 0.25)
    battery, energy, hours = dynamics.discharge_slot(21.0, -11.0, 20.0, 0.25)
    assert (battery, energy) == (20.0, -1.0) and math.isclose(hours, 1 / 11)
    assert dynamics.discharge_slot(10.0, -11.0, 20.0, 0.25) == (10.0, 0.0, 0.0)
    assert dynamics.discharge_slot(20.0, -11.0, 20.0, 0.25) == (20.0, 0.0, 0.0)


@given(
    battery=st.floats(0, 100),
    power=st.floats(-50, 50),
    reserve=st.floats(0, 100),
    slot=st.floats(0.01, 2),
)
def test_move_slot_stays_between_reserve_and_capacity(
    battery: float, power: float, reserve: float, slot: float
) -> None:
    capacity = 100.0
    after, energy, hours = dynamics.move_slot(battery, power, capacity, reserve, slot)
    assert after <= capacity + 1e-9
    assert after >= min(battery, reserve) - 1e-9
    assert 0.0 <= hours <= slot + 1e-12
    assert math.isclose(after, battery + energy, abs_tol=1e-9)
    if power >= 0:  # charging is exactly the charge-only physics
        assert (after, energy, hours) == dynamics.charge_slot(battery, power, capacity, slot)
    else:
        assert energy <= 0.0


def test_bidirectional_costs_split_bill_revenue_wear_and_ageing() -> None:
    # 10 kWh out of the battery, 9 reach the grid at 0.5: revenue 4.5; ageing 0.02 per kWh
    total, net, wear, revenue, ageing = dynamics.bidirectional_costs(
        -10.0, -10.0, 1.0, 0.5, 0.5, 1.0, 0.9, 0.001, 0.02
    )
    assert (revenue, net) == (4.5, -4.5)
    assert math.isclose(wear, 0.1) and math.isclose(ageing, 0.2)
    assert math.isclose(total, -4.5 + 0.1 + 0.2)
    # charging 9 kWh at 90%: 10 kWh from the grid at 0.1
    total, net, wear, revenue, ageing = dynamics.bidirectional_costs(
        9.0, 9.0, 1.0, 0.1, 0.5, 0.9, 0.9, 0.0, 0.02
    )
    assert revenue == 0.0 and math.isclose(net, 1.0) and math.isclose(ageing, 0.18)
