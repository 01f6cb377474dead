"""Shift-share (Bartik) exposure."""

from __future__ import annotations

import jax.numpy as jnp

from .._checks import check_finite, check_positive

__all__ = ["shift_share"]


def shift_share(shares, shocks):
    """Shift-share exposure ``g_hat_c = sum_i s_ic g_i`` (paper 002 eq. 2; Borusyak-Hull-Jaravel).

    ``s_ic`` are region c's (start-of-period) industry shares and ``g_i`` the industry shocks
    (aggregate growth, import growth, ...). The shares need not sum to one (ADH: industry employment
    over *total* employment, summing to the manufacturing share, which makes the exposure an
    "incomplete-shares" Bartik variable).

    Args:
        shares: ``(regions, industries)`` nonnegative shares.
        shocks: ``(industries,)`` or ``(industries, k)`` shocks (several shock vectors at once).

    Returns:
        ``(regions,)`` or ``(regions, k)``.
    """
    s = jnp.asarray(shares)
    g = jnp.asarray(shocks)
    if s.ndim != 2:
        raise ValueError(f"shares must be 2-D (regions x industries); got shape {s.shape}")
    if g.ndim not in (1, 2) or g.shape[0] != s.shape[1]:
        raise ValueError(f"shocks must have shape ({s.shape[1]},) or ({s.shape[1]}, k) to match shares "
                         f"{s.shape}; got {g.shape}")
    check_positive(s, "shares", strict=False)
    check_finite(s, "shares")
    check_finite(g, "shocks")
    return s @ g
