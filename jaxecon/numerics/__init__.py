"""Shared numerics: Markov chains, multilinear interpolation, batched Newton, fixed points (with
Anderson acceleration), time iteration with implicit gradients, batching.

Every function is pure JAX, safe under ``jit`` and ``vmap``. Models import from here; nothing in
this subpackage is model-specific.
"""

from .markov import (
    MarkovChain,
    chain_moments,
    drift_chain,
    product_chain,
    rouwenhorst,
    simulate_indices,
    stationary_distribution,
    tauchen,
)
from .interp import (Axis, Interpolator, interp_multilinear, interp_tables, interp_grad, points_axis, power_axis,
                     uniform_axis)
from .newton import NewtonResult, newton, newton_soa, solve_small, solve_small_soa
from .fixed_point import FixedPointResult, fixed_point
from .anderson import AndersonState, anderson_init, anderson_step
from .time_iteration import (PolicySolution, SweepInfo, TimeIteration, TimeIterationProblem, TimeIterationSolution,
                             TimeIterationState, default_adjoint_solver, nan_tangent_unless, solve_time_iteration,
                             time_iterate)
from .time_iteration import RESULTS as TIME_ITERATION_RESULTS
from .lottery import Lottery, StationaryDistribution, lottery, push_forward, stationary_lottery
from .batching import (batch_size, map_batch, regions_mesh, shard_batch, sharded_map, sharded_vmap, stack, unpad,
                       unstack, use_cpu_cores)

__all__ = [
    "MarkovChain", "tauchen", "rouwenhorst", "product_chain", "drift_chain",
    "stationary_distribution", "chain_moments", "simulate_indices",
    "Axis", "uniform_axis", "power_axis", "points_axis", "interp_multilinear", "interp_tables", "interp_grad", "Interpolator",
    "NewtonResult", "newton", "newton_soa", "solve_small", "solve_small_soa",
    "FixedPointResult", "fixed_point",
    "AndersonState", "anderson_init", "anderson_step",
    "TimeIteration", "TimeIterationProblem", "TimeIterationState", "TimeIterationSolution", "SweepInfo",
    "PolicySolution", "TIME_ITERATION_RESULTS", "time_iterate", "solve_time_iteration", "default_adjoint_solver",
    "nan_tangent_unless", "Lottery", "lottery", "push_forward", "StationaryDistribution", "stationary_lottery",
    "stack", "unstack", "batch_size", "regions_mesh", "shard_batch", "unpad", "sharded_vmap", "sharded_map", "map_batch",
    "use_cpu_cores",
]
