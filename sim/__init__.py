"""tnlab's simulated number world: configs, the SimPy world, runs, experiments and reports."""
