"""tnlab's models: the algorithms under study and the metrics that judge them.

Never imports ``sim`` or SimPy: inputs are NumPy arrays and pandas DataFrames.
"""

from os.path import dirname as _dirname

from .caches import prepare_library_caches as _prepare_library_caches

_prepare_library_caches(_dirname(__file__))
