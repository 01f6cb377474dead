"""Stacking Params and sharding a batch over devices (sharded == unsharded)."""

import os
import subprocess
import sys
import textwrap

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon.numerics import batch_size, map_batch, newton, shard_batch, sharded_vmap, stack, unpad, unstack


class Toy(eqx.Module):
    a: jax.Array
    b: jax.Array
    n: int = eqx.field(static=True, default=3)


def test_stack_unstack_roundtrip():
    ps = [Toy(jnp.asarray(float(i)), jnp.arange(3.0) * i) for i in range(5)]
    st = stack(ps)
    assert batch_size(st) == 5 and st.b.shape == (5, 3) and st.n == 3
    back = unstack(st)
    for p, q in zip(ps, back):
        np.testing.assert_array_equal(p.b, q.b)


def test_stack_rejects_mismatched_static_fields():
    with pytest.raises(ValueError, match="structure"):
        stack([Toy(jnp.asarray(0.0), jnp.zeros(3)), Toy(jnp.asarray(0.0), jnp.zeros(3), n=4)])


def test_sharded_vmap_single_device_equals_vmap():
    ps = stack([Toy(jnp.asarray(float(i)), jnp.arange(3.0) + i) for i in range(7)])
    fn = lambda p, s: jnp.sum(p.b**2) * p.a + s
    np.testing.assert_allclose(sharded_vmap(fn, ps, 1.0), jax.vmap(fn, in_axes=(0, None))(ps, 1.0))


def test_map_batch_equals_vmap_on_one_cpu_device():
    """On one CPU device map_batch runs the elements one after another (lax.map): each Newton solve
    takes only its own iterations, and the roots are vmap's."""
    a = jnp.linspace(1.0, 30.0, 7)
    solve = lambda a, x0: newton(lambda x, a: x**3 - a, x0, (a,)).x  # noqa: E731
    np.testing.assert_allclose(np.asarray(map_batch(solve, a, 1.0)), np.asarray(jax.vmap(solve, in_axes=(0, None))(a, 1.0)),
                               rtol=1e-13)
    np.testing.assert_allclose(np.asarray(map_batch(solve, a, 1.0)) ** 3, np.asarray(a), rtol=1e-10)


SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax, jax.numpy as jnp, numpy as np
    import jaxecon
    from jaxecon.numerics import shard_batch, sharded_map, sharded_vmap, unpad, newton, stack
    assert jax.device_count() == 4, jax.devices()
    a = jnp.linspace(1.0, 30.0, 7)   # 7 is not divisible by 4: exercises padding
    solve = lambda a: newton(lambda x, a: x**3 - a, 1.0, (a,)).x
    ref = jax.vmap(solve)(a)
    got = sharded_vmap(solve, a)
    sh, n = shard_batch(a)
    assert n == 7 and sh.shape == (8,) and len(sh.sharding.device_set) == 4
    np.testing.assert_array_equal(np.asarray(got), np.asarray(ref))
    # one element after another on each device: the same roots, padding dropped
    mapped = sharded_map(solve, a)
    assert mapped.shape == (7,)
    np.testing.assert_allclose(np.asarray(mapped), np.asarray(ref), rtol=1e-13)
    from jaxecon.numerics import map_batch
    np.testing.assert_allclose(np.asarray(map_batch(solve, a)), np.asarray(ref), rtol=1e-13)  # sharded_map here
    print("SHARDED_OK")
    """
)


def test_sharded_equals_unsharded_on_four_cpu_devices():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SHARDED_OK" in out.stdout


CORES = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, pytest
    from jaxecon.numerics import use_cpu_cores, sharded_map
    assert use_cpu_cores(3) == 3
    assert jax.device_count() == 3, jax.devices()
    out = sharded_map(lambda x, s: x * s, jnp.arange(5.0), 2.0)
    assert out.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
    with pytest.raises(RuntimeError, match="before the first JAX operation"):
        use_cpu_cores(2)
    print("CORES_OK")
    """
)


def test_use_cpu_cores_splits_the_cpu_and_refuses_once_jax_has_started():
    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    env["JAX_PLATFORMS"] = "cpu"
    out = subprocess.run([sys.executable, "-c", CORES], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "CORES_OK" in out.stdout
