"""The Wilson score interval of a proportion (95 % by default): well-behaved for small counts and shares near 0 or 1,
where the normal approximation is not."""

from __future__ import annotations

from math import sqrt

Z95 = 1.959963984540054


def wilson(successes: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """(low, high) of the interval for ``successes`` of ``total``; None without observations."""
    if total <= 0:
        return None
    if not 0 <= successes <= total:
        raise ValueError("successes must be between 0 and the total")
    share = successes / total
    z2 = z * z
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    half = z * sqrt(share * (1 - share) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return max(0.0, centre - half), min(1.0, centre + half)
