"""jaxecon._checks: bad values are named in the message (NaN entries included, issue 18 item 5)."""

import numpy as np
import pytest

import jaxecon  # noqa: F401
from jaxecon._checks import check_finite, check_in_range, check_positive


def test_nan_is_named_not_hidden_behind_a_minimum():
    v = np.r_[np.full(10, 0.857), np.nan]
    with pytest.raises(ValueError, match=r"^T_c must be > 0; got 1 NaN entry \(first at index 10\)$"):
        check_positive(v, "T_c")
    with pytest.raises(ValueError, match=r"x must be >= 0; got 2 NaN entries \(first at index \(0, 1\)\)"):
        check_positive(np.array([[1.0, np.nan], [np.nan, 1.0]]), "x", strict=False)
    with pytest.raises(ValueError, match=r"theta must be > 0; got 1 NaN entry$"):
        check_positive(np.float64(np.nan), "theta")
    # NaN and a non-positive value: both reported
    with pytest.raises(ValueError, match=r"1 NaN entry \(first at index 0\) and 1 entries not > 0 \(min -1.0\)"):
        check_positive(np.r_[np.nan, -1.0, np.ones(10)], "T_c")
    with pytest.raises(ValueError, match=r"rho must lie in \[0.0, 1.0\); got 1 NaN entry \(first at index 1\)"):
        check_in_range(np.array([0.5, np.nan]), "rho", 0.0, 1.0, hi_open=True)
    with pytest.raises(ValueError, match=r"x must be finite; got 2 non-finite entries: 1 NaN entry \(first at "
                                         r"index 2\), 1 infinite \(first at index 0\)"):
        check_finite(np.array([np.inf, 1.0, np.nan]), "x")


def test_out_of_range_values_shown():
    with pytest.raises(ValueError, match=r"x must be > 0; got 1 entries not > 0, min -2.0 \(at index 3\)"):
        check_positive(np.r_[np.ones(3), -2.0, np.ones(10)], "x")
    with pytest.raises(ValueError, match=r"x must be > 0; got \[ 1. -2.\]"):
        check_positive(np.array([1.0, -2.0]), "x")
    for ok in (np.ones(3), 2.0):
        check_positive(ok, "x")
        check_finite(ok, "x")
        check_in_range(ok, "x", 0.0, 3.0)
