"""NANP numbering: area codes, exchange codes, thousands-blocks and their geography.

Area codes are checked, and described, with Google's ``phonenumbers`` metadata; exchange
codes (NXX) follow the NANP rules: the first digit is 2-9, the N11 service codes and 555
(directory and fictional use) are excluded.
"""

from __future__ import annotations

from functools import cache, lru_cache

import numpy as np
import phonenumbers
from phonenumbers import geocoder

__all__ = [
    "area_code_region",
    "area_exchange_codes",
    "is_geographic_area_code",
    "is_us_area_code",
    "exchange_codes",
    "random_external_numbers",
]

BLOCK = 1000
"""Numbers per thousands-block (NPA-NXX-X), the unit of US number pooling."""


def _sample_number(npa: int) -> phonenumbers.PhoneNumber:
    return phonenumbers.parse(f"+1{npa}2345678")


@cache
def is_us_area_code(npa: int) -> bool:
    """Whether ``npa`` is an assigned US area code in ``phonenumbers``' metadata
    (geographic or not: toll-free, premium and personal codes included)."""
    if not 200 <= npa <= 999:
        return False
    number = _sample_number(npa)
    return phonenumbers.is_valid_number(number) and (
        phonenumbers.region_code_for_number(number) == "US"
    )


_GEOGRAPHIC = {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


@cache
def is_geographic_area_code(npa: int) -> bool:
    """Whether ``npa`` is a US area code of a place (not toll-free 8XX, premium 900 or
    personal 500): the codes a carrier's inventory and local numbers come from."""
    return is_us_area_code(npa) and phonenumbers.number_type(_sample_number(npa)) in _GEOGRAPHIC


@cache
def area_code_region(npa: int) -> str:
    """Plain-language geography of an area code, e.g. ``"New York, NY"`` for 212."""
    return geocoder.description_for_number(_sample_number(npa), "en") or "United States"


@lru_cache(maxsize=1)
def us_area_codes() -> np.ndarray:
    """All US area codes known to ``phonenumbers``, ascending (int64)."""
    return np.array([npa for npa in range(200, 1000) if is_us_area_code(npa)], dtype=np.int64)


@lru_cache(maxsize=1)
def exchange_codes() -> np.ndarray:
    """Central-office codes NXX allowed by the NANP rules (int64, ascending)."""
    nxx = np.arange(200, 1000, dtype=np.int64)
    n11 = (nxx % 100) == 11
    return nxx[~n11 & (nxx != 555) & (nxx != 950) & (nxx != 958) & (nxx != 959) & (nxx != 976)]


@cache
def area_exchange_codes(npa: int) -> np.ndarray:
    """Exchange codes of area code ``npa`` whose numbers ``phonenumbers`` accepts as valid.

    Newer area codes (524, 983, ...) have only part of their exchanges opened in the
    metadata; validity is decided per NPA-NXX, so one probe number per exchange suffices.
    """
    return np.array(
        [
            nxx
            for nxx in exchange_codes()
            if phonenumbers.is_valid_number(phonenumbers.parse(f"+1{npa}{nxx}2345"))
        ],
        dtype=np.int64,
    )


@lru_cache(maxsize=1)
def _external_prefixes() -> np.ndarray:
    """Every ``NPA NXX 0000`` of a US area code and valid exchange code (int64)."""
    return (us_area_codes()[:, None] * 10_000_000 + exchange_codes()[None, :] * 10_000).ravel()


def random_external_numbers(rng: np.random.Generator, size: int) -> np.ndarray:
    """Random 10-digit US numbers outside any inventory: contacts off the network, spoofed IDs.

    Parameters
    ----------
    rng : numpy.random.Generator
        Random stream.
    size : int
        How many numbers.

    Returns
    -------
    numpy.ndarray
        int64 numbers ``NPA NXX XXXX`` with a real US area code and an exchange code allowed by
        the NANP rules (not checked against ``phonenumbers`` per exchange: that would cost
        seconds at every start, and these numbers never enter the inventory).
    """
    prefixes = _external_prefixes()
    line = rng.integers(0, 10_000, size, dtype=np.uint32)
    return prefixes[rng.integers(0, len(prefixes), size, dtype=np.uint32)] + line
