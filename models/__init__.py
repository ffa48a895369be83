"""tnlab's models: the algorithms under study and the metrics that judge them.

Never imports ``sim`` or SimPy: inputs are NumPy arrays and pandas DataFrames.
"""
