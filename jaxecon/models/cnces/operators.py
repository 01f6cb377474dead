"""The exact CNCES Jacobians as structured linear operators: diagonal plus rank K (paper 004, §2.3).

Differentiating eqs 3-7 (see :mod:`jaxecon.models.cnces.elasticities`), with D_ck = φ_ck/(1-ρ_k) and
g_k = ρ_k/(1-ρ_k):

    ∂ln π_c/∂ln t_c'k = 1[c = c'] D_ck - π_c'k [ω_k + g_k φ_ck]
    ∂ln π_c/∂ln T_c'  = θ Σ_k ∂ln π_c/∂ln t_c'k
                      = θ 1[c = c'] Σ_k D_ck - θ Σ_k φ_ck W_c'k,    W_c'k = π_c' + g_k π_c'k

(the second line uses Σ_k ω_k π_c'k = π_c' and Σ_k φ_ck = 1). So the N x N location Jacobian is
diag(d) + U Vᵀ with d_c = θ Σ_k D_ck, U = -θ φ and V = W, both N x K: a product, a row, a column, the
diagonal or any row/column sum costs O(N K) instead of the O(N² K) of the dense matrix. The
N x (N K) shifter Jacobian has the same structure: its product with a shock X (N x K) is
Σ_k D_ck X_ck - Σ_k (ω_k + g_k φ_ck) s_k with s_k = Σ_c' π_c'k X_c'k.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from .counterfactual import _check_shock, _logs
from .params import Params

__all__ = ["DiagonalPlusLowRank", "ShifterJacobian", "ElasticityOperators", "elasticity_operators"]


class DiagonalPlusLowRank(eqx.Module):
    """The N x N matrix J = diag(d) + U Vᵀ (U, V: N x R), never materialized unless asked.

    Every method costs O(N R) (``as_matrix``: O(N² R)). Fields carry a leading batch axis under
    ``jax.vmap``; call the methods inside the vmapped function (or ``jax.vmap`` them).

    Attributes:
        d: ``(N,)`` diagonal part.  U, V: ``(N, R)`` low-rank factors.
    """

    d: Float[Array, " N"]
    U: Float[Array, "N R"]
    V: Float[Array, "N R"]

    @property
    def shape(self) -> tuple[int, int]:
        n = self.d.shape[-1]
        return (n, n)

    def mv(self, x: Float[Array, " N"]) -> Float[Array, " N"]:
        """J x."""
        return self.d * x + self.U @ (self.V.T @ x)

    def rmv(self, y: Float[Array, " N"]) -> Float[Array, " N"]:
        """Jᵀ y (= yᵀ J)."""
        return self.d * y + self.V @ (self.U.T @ y)

    def transpose(self) -> "DiagonalPlusLowRank":
        """Jᵀ, with the same structure."""
        return DiagonalPlusLowRank(self.d, self.V, self.U)

    def as_matrix(self) -> Float[Array, "N N"]:
        """The dense N x N matrix."""
        return jnp.diag(self.d) + self.U @ self.V.T

    def diagonal(self) -> Float[Array, " N"]:
        """J_cc (own elasticities)."""
        return self.d + jnp.sum(self.U * self.V, axis=-1)

    def column(self, j) -> Float[Array, " N"]:
        """J[:, j]: the response of every row to the j-th input (J e_j)."""
        return (jnp.arange(self.d.shape[-1]) == j) * self.d[j] + self.U @ self.V[j]

    def row(self, i) -> Float[Array, " N"]:
        """J[i, :] (Jᵀ e_i)."""
        return (jnp.arange(self.d.shape[-1]) == i) * self.d[i] + self.V @ self.U[i]

    def row_sums(self) -> Float[Array, " N"]:
        """Σ_c' J_cc' (J 1)."""
        return self.d + self.U @ jnp.sum(self.V, axis=0)

    def column_sums(self) -> Float[Array, " N"]:
        """Σ_c J_cc' (Jᵀ 1)."""
        return self.d + self.V @ jnp.sum(self.U, axis=0)

    def cross_row_sums(self) -> Float[Array, " N"]:
        """Σ_{c' != c} J_cc' (row sums without the diagonal)."""
        return self.row_sums() - self.diagonal()

    def cross_column_sums(self) -> Float[Array, " N"]:
        """Σ_{c != c'} J_cc' (column sums without the diagonal)."""
        return self.column_sums() - self.diagonal()

    def to_lineax(self):
        """The same operator as a ``lineax.FunctionLinearOperator`` (for lineax solvers)."""
        import lineax as lx

        return lx.FunctionLinearOperator(self.mv, jax.ShapeDtypeStruct(self.d.shape, self.d.dtype))


class ShifterJacobian(eqx.Module):
    """∂ln π_c/∂ln t_c'k as a linear map from shocks X (N x K) to log-share changes (N,).

    J[c, c', k] = 1[c = c'] D_ck - π_c'k (ω_k + g_k φ_ck) (module docstring). Products cost O(N K).

    Attributes:
        own_ck: ``(N, K)`` D_ck = φ_ck/(1-ρ_k).  pi_ck: ``(N, K)`` π_ck.  phi_g: ``(N, K)`` g_k φ_ck.
        omega_k: ``(K,)`` ω_k.
    """

    own_ck: Float[Array, "N K"]
    pi_ck: Float[Array, "N K"]
    phi_g: Float[Array, "N K"]
    omega_k: Float[Array, " K"]

    @property
    def shape(self) -> tuple[int, int, int]:
        n, k = self.pi_ck.shape[-2:]
        return (n, n, k)

    def mv(self, x: Float[Array, "N K"]) -> Float[Array, " N"]:
        """Σ_c'k J[c, c', k] x_c'k: the first-order change in ln π_c from the shock ln t += x."""
        s = jnp.sum(self.pi_ck * x, axis=0)                              # s_k = Σ_c' π_c'k x_c'k
        return jnp.sum(self.own_ck * x, axis=-1) - self.omega_k @ s - self.phi_g @ s

    def rmv(self, y: Float[Array, " N"]) -> Float[Array, "N K"]:
        """Σ_c y_c J[c, c', k] (the vector-Jacobian product), ``(N, K)``."""
        a = jnp.sum(y) * self.omega_k + y @ self.phi_g                   # (K,)
        return y[:, None] * self.own_ck - self.pi_ck * a

    def as_matrix(self) -> Float[Array, "N N K"]:
        """The dense (N, N, K) array indexed [c, c', k]."""
        n = self.pi_ck.shape[-2]
        cross = -self.pi_ck[None, :, :] * (self.omega_k + self.phi_g[:, None, :])
        return cross + jnp.eye(n)[:, :, None] * self.own_ck[:, None, :]

    def diagonal(self) -> Float[Array, "N K"]:
        """Own elasticities J[c, c, k] = ∂ln π_c/∂ln t_ck, ``(N, K)``."""
        return self.own_ck - self.pi_ck * (self.omega_k + self.phi_g)


class ElasticityOperators(eqx.Module):
    """The exact Jacobians of ln π_c as operators (see :func:`elasticity_operators`).

    Attributes:
        t: :class:`ShifterJacobian`, ∂ln π_c/∂ln t_c'k.
        T_c: :class:`DiagonalPlusLowRank`, ∂ln π_c/∂ln T_c' (N x N, diagonal plus rank K).
        T_k: ``(N, K)`` dense ∂ln π_c/∂ln T_k = φ_ck - ω_k (eq 11; already O(N K)).
    """

    t: ShifterJacobian
    T_c: DiagonalPlusLowRank
    T_k: Float[Array, "N K"]


def elasticity_operators(params: Params, d_log_t_ck=0.0, d_log_T_k=0.0, d_log_T_c=0.0) -> ElasticityOperators:
    """Exact elasticities of ln π_c as structured operators, in O(N K) (module docstring).

    Evaluated at ``params`` or, given log shocks Δ (as in :func:`jaxecon.models.cnces.counterfactual`:
    ln t_ck += Δ_ck, ln T_k += Δ_k, ln T_c += Δ_c), at the shocked shifters, without leaving logs.
    ``as_matrix()`` of each equals :func:`jaxecon.models.cnces.elasticities` (autodiff) to rounding.
    jit/vmap-safe: e.g. ``jax.vmap(lambda d: elasticity_operators(p, d).T_c.diagonal())(shocks)``.

    Raises:
        ValueError: a shock that does not broadcast to its shifter's shape or (concrete values) is
            not finite, naming the argument.
    """
    n, k = params.t_ck.shape[-2:]
    _check_shock(d_log_t_ck, "d_log_t_ck", (n, k))
    _check_shock(d_log_T_k, "d_log_T_k", (k,))
    _check_shock(d_log_T_c, "d_log_T_c", (n,))
    logs = _logs(params, d_log_t_ck, d_log_T_k, d_log_T_c)
    pi_c, pi_ck = jnp.exp(logs["log_pi_c"]), jnp.exp(logs["log_pi_ck"])
    phi_ck, omega_k = jnp.exp(logs["log_phi_ck"]), jnp.exp(logs["log_omega_k"])
    rho_k = params.rho_k
    g = rho_k / (1.0 - rho_k)
    own = phi_ck / (1.0 - rho_k)                                         # D_ck
    t = ShifterJacobian(own_ck=own, pi_ck=pi_ck, phi_g=g * phi_ck, omega_k=omega_k)
    theta = params.theta
    W = pi_c[:, None] + g * pi_ck                                        # W_c'k = π_c' + g_k π_c'k
    T_c = DiagonalPlusLowRank(d=theta * jnp.sum(own, axis=-1), U=-theta * phi_ck, V=W)
    return ElasticityOperators(t=t, T_c=T_c, T_k=phi_ck - omega_k)
