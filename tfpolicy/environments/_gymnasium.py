"""What the gymnasium wrappers share: the lazy import, the discount check and
the per-step conversion of observations to their specs' dtypes."""

from typing import Any, Callable

import numpy as np
import tree

from specs import NestedArray, NestedArraySpec

__all__ = ["check_discount", "import_gymnasium", "observation_converter"]

_INSTALL_HINT = ('needs gymnasium, an optional dependency of tfpolicy: install it with '
                 '`pip install "tfpolicy[gym]"`')


def import_gymnasium(what: str) -> Any:
    """The gymnasium module; an ImportError naming `what` and the extra if it is missing."""
    try:
        import gymnasium
    except ImportError as e:
        raise ImportError(f"{what} {_INSTALL_HINT}") from e
    return gymnasium


def check_discount(discount: float) -> np.float32:
    """`discount` as float32, after checking it lies in [0, 1]."""
    if not 0.0 <= float(discount) <= 1.0:
        raise ValueError(f"discount must lie in [0, 1], got {discount!r}")
    return np.float32(discount)


def observation_converter(spec: NestedArraySpec) -> Callable[[Any], NestedArray]:
    """A function casting a gymnasium observation to the dtypes of `spec`, called
    every step: a single-array spec skips dm-tree altogether."""
    if not tree.is_nested(spec):
        dtype = spec.dtype
        return lambda observation: np.asarray(observation, dtype=dtype)
    return lambda observation: tree.map_structure_up_to(
        spec, lambda leaf, value: np.asarray(value, dtype=leaf.dtype), spec, observation)
