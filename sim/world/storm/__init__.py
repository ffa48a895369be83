"""The restart storm: phones that lose power together renegotiate with one provisioning
server (:class:`Storm`, built by the world when ``storm.enabled``), run by a Numba kernel
(:mod:`.kernel`) with a one-process-per-phone SimPy twin (:mod:`.processes`)."""

from .component import Storm, StormRun, kernel_arguments, run_storm

__all__ = ["Storm", "StormRun", "kernel_arguments", "run_storm"]
