"""How the CLI writes numbers for people: counts, money, shares, instants and counted nouns.

One place, so that every command shows a number the same way: counts with thousands
separators, money with two decimals and the currency code, rates and shares as percentages,
instants in UTC to the second with a ``Z``.

>>> plural(1, "segment"), plural(2_500, "customer")
('1 segment', '2,500 customers')
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Final

DEFAULT_CURRENCY: Final = "EUR"
# Traits in the workspace currency, and traits that are rates or probabilities (0..1).
MONEY_TRAITS: Final = frozenset({"revenue_total", "aov", "predicted_clv_365d"})
RATE_TRAITS: Final = frozenset({"email_open_rate_90d", "email_click_rate_90d", "p_alive"})


def count(n: int) -> str:
    """A count with thousands separators.

    >>> count(1234567)
    '1,234,567'
    """
    return f"{n:,}"


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """``n`` and the noun, singular for exactly one.

    >>> plural(1, "change"), plural(0, "entry", "entries")
    ('1 change', '0 entries')
    """
    return f"{n:,} {noun if n == 1 else (nouns or noun + 's')}"


def percent(share: float | None, digits: int = 1) -> str:
    """A share or rate (0..1) as a percentage; ``-`` when there is none.

    >>> percent(0.0892), percent(1), percent(None)
    ('8.9%', '100.0%', '-')
    """
    return "-" if share is None else f"{float(share) * 100:,.{digits}f}%"


def money(value: Decimal | float | int | None, currency: str = DEFAULT_CURRENCY) -> str:
    """An amount with two decimals and the currency code.

    A stored amount with more decimals (money is kept exactly, to four) shows them all
    rather than being rounded, so what is printed is what rules compare against.

    >>> money(Decimal("82.7600"), "EUR"), money(1234.5, "USD"), money(Decimal("0.0125"))
    ('82.76 EUR', '1,234.50 USD', '0.0125 EUR')
    """
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        cents = value.quantize(Decimal("0.01"))
        text = f"{cents:,}" if cents == value else f"{value.normalize():,f}"
    else:
        text = f"{value:,.2f}"
    return f"{text} {currency}"


def instant(value: datetime | date | None) -> str:
    """An instant in UTC to the second with ``Z`` (a date stays a date); ``-`` for none.

    >>> instant(datetime(2026, 12, 5, 9, 17, 12, 16257, tzinfo=UTC))
    '2026-12-05T09:17:12Z'
    """
    if value is None:
        return "-"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        return value.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
    return value.isoformat()


def seconds(value: float) -> str:
    """A duration in seconds, to a tenth.

    >>> seconds(9.64)
    '9.6 s'
    """
    return f"{value:.1f} s"


def currency_of(config: Any) -> str:
    """The workspace base currency (``[money] currency``), EUR when it is not configured."""
    money_config = getattr(config, "money", None)
    code = getattr(money_config, "currency", None)
    return code if isinstance(code, str) and code else DEFAULT_CURRENCY


def trait(name: str, value: object, currency: str = DEFAULT_CURRENCY) -> str:
    """A trait's value as people read it: money, a percentage, an instant or plain.

    >>> trait("aov", 82.76, "EUR"), trait("p_alive", 0.995), trait("orders_count", 1200)
    ('82.76 EUR', '99.5%', '1,200')
    """
    if value is None:
        return "-"
    if name in MONEY_TRAITS and isinstance(value, Decimal | float | int):
        return money(value, currency)
    if name in RATE_TRAITS and isinstance(value, float | int):
        return percent(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return count(value)
    return plain(value)


def plain(value: object) -> str:
    """Any other value: instants to the second, lists joined, small floats to 4 digits.

    Whole numbers stay as they are: an attribute may be a postal code or a year.
    """
    if value is None:
        return "-"
    if isinstance(value, datetime | date):
        return instant(value)
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "(empty)"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    return str(value)
