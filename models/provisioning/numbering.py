"""Real NANP numbers for the provisioning service: blocks and E.164 spelling.

Numbers are checked with Google's ``phonenumbers`` metadata (a valid US geographic number)
and the NANP exchange-code rules (first digit 2-9, not an N11 service code, not 555).
"""

from __future__ import annotations

import phonenumbers

__all__ = ["e164", "number_block"]

_GEOGRAPHIC = {
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
}


def e164(text: str) -> str:
    """A US number as E.164 (``"+12124561000"``), from any common spelling.

    Parameters
    ----------
    text : str
        ``"212-456-1000"``, ``"(212) 456 1000"``, ``"+1 212 456 1000"``, ...

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If it is not a valid US geographic number with a NANP exchange code.

    Examples
    --------
    >>> e164("(212) 456-1000")
    '+12124561000'
    """
    if not isinstance(text, str) or len(text) > 32:
        raise ValueError("not a phone number")
    try:
        num = phonenumbers.parse(text, "US")
    except phonenumbers.NumberParseException:
        raise ValueError(f"not a phone number: {text!r}") from None
    national = str(num.national_number)
    if (
        num.country_code != 1
        or len(national) != 10
        or not phonenumbers.is_valid_number(num)
        or phonenumbers.region_code_for_number(num) != "US"
        or phonenumbers.number_type(num) not in _GEOGRAPHIC
    ):
        raise ValueError(f"not a valid US geographic number: {text!r}")
    nxx = national[3:6]
    if nxx[0] in "01" or nxx[1:] == "11" or nxx == "555":
        raise ValueError(f"exchange code {nxx} is not assignable: {text!r}")
    return "+1" + national


def number_block(first: str, count: int) -> tuple[str, ...]:
    """``count`` consecutive numbers from ``first``, within one exchange (NPA-NXX).

    Parameters
    ----------
    first : str
        The block's first number, in any spelling :func:`e164` reads.
    count : int
        How many numbers (1-10,000).

    Returns
    -------
    tuple of str
        E.164 numbers, ascending.

    Raises
    ------
    ValueError
        If ``first`` is not valid, ``count`` is out of range, or the block would leave the
        exchange.

    Examples
    --------
    >>> number_block("2124561998", 2)
    ('+12124561998', '+12124561999')
    """
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 10_000:
        raise ValueError("a block holds 1 to 10,000 numbers")
    start = e164(first)
    line = int(start[-4:])
    if line + count > 10_000:
        raise ValueError(f"a block of {count} from {start} leaves the exchange")
    last = e164(start[:-4] + f"{line + count - 1:04d}")
    del last
    return tuple(f"{start[:-4]}{line + i:04d}" for i in range(count))
