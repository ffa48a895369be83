"""Foundations every layer of ``sim`` may use: NANP numbering, named random streams,
growable columns, atomic file writes and configured distributions.  Imports nothing else
from ``sim``."""
