"""The baseline the hybrid world is measured against: one SimPy process per subscriber.

Each subscriber is a process that sleeps an exponential gap per call (diurnal rates by
thinning), picks a callee among its contacts, looks the callee up in a dict of the
inventory, decides answer and talk time, and appends the call to Python lists: the way a
SimPy model is usually first written.  Only the residential type is modelled, which is all
the benchmark scenario uses.
"""

from __future__ import annotations

import numpy as np
import simpy

from models.common import DAY
from sim.config import ExperimentConfig
from sim.core.numbering import random_external_numbers
from sim.world.clock import hourly_rates
from sim.world.inventory import make_numbers


def naive_world(config: ExperimentConfig) -> int:
    """Simulate the residential subscribers of ``config`` naively; return the calls made."""
    rng = np.random.default_rng(config.seed)
    spec = config.subscribers.residential
    inv = config.inventory
    numbers = make_numbers(inv.area_codes, inv.blocks_per_area_code, rng)
    lines = {int(n): i for i, n in enumerate(numbers)}
    assigned = set(range(spec.initial))
    rates = hourly_rates(spec.calls_per_day, spec.diurnal)
    peak = rates.max()
    env = simpy.Environment()
    log: dict[str, list] = {"t": [], "caller": [], "callee": [], "answered": [], "duration": []}

    def subscriber(i: int, contacts: np.ndarray):
        while True:
            yield env.timeout(rng.exponential(1.0 / peak))
            if rng.random() * peak > rates[int(env.now // 3600) % 24]:
                continue
            callee = int(contacts[rng.integers(len(contacts))])
            line = lines.get(callee, -1)
            reached = line < 0 or line in assigned
            answered = reached and rng.random() < spec.answer_prob
            log["t"].append(env.now)
            log["caller"].append(int(numbers[i]))
            log["callee"].append(callee)
            log["answered"].append(answered)
            log["duration"].append(float(spec.duration.sample(rng, 1)[0]) if answered else 0.0)

    for i in range(spec.initial):
        contacts = random_external_numbers(rng, 1 + rng.poisson(spec.contacts_mean - 1))
        env.process(subscriber(i, contacts))
    env.run(until=config.scenario.days * DAY)
    return len(log["t"])
