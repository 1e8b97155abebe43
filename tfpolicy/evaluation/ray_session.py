"""Starting or joining Ray, the engine remote workers run on (an optional dependency).

`ray` is the `ray` extra (`pip install "tfpolicy[ray]"`) and is imported
only here, when something remote is asked for. `init_ray` is what
`WorkerSet` calls before it starts actors:

- Ray already initialised (by the user, or by an earlier `init_ray`): it
  is used as it is.
- `address=None` (the default) and no `RAY_ADDRESS` in the environment: a
  local Ray starts inside this process with `num_cpus` CPUs (all of the
  machine's when None), without the dashboard.
- `address="auto"` joins the cluster running on this machine (started
  with `ray start --head`); `address="ray://host:10001"` or
  `"host:6379"` joins that cluster. A `RAY_ADDRESS` environment variable
  acts as `address`.

The workers are Ray actors, so on a cluster they are placed on any node
with free CPUs; each node needs the same Python environment (tfpolicy,
TensorFlow and the env's packages), as for any Ray program.
"""

import importlib.util
import os
from types import ModuleType
from typing import Any, Optional

__all__ = ["init_ray", "require_ray", "ray_available"]

_INSTALL_HINT = 'pip install "tfpolicy[ray]"'


def ray_available() -> bool:
    """Whether `ray` can be imported (without importing it)."""
    return importlib.util.find_spec("ray") is not None


def require_ray(what: str = "remote workers") -> ModuleType:
    """`import ray`, or an ImportError naming the extra that provides it.

    Args:
      what: what needs Ray, for the message.

    Raises:
      ImportError: Ray is not installed.
    """
    try:
        import ray
    except ImportError as error:
        raise ImportError(f"{what} run on Ray, which is not installed: {_INSTALL_HINT}"
                          ) from error
    return ray


def init_ray(address: Optional[str] = None, num_cpus: Optional[int] = None,
             **ray_init_kwargs: Any) -> ModuleType:
    """Starts a local Ray, joins a cluster, or keeps the running session (see the
    module docstring).

    Args:
      address: None (a local Ray, or `RAY_ADDRESS` when set), `"auto"`, or a
        cluster address.
      num_cpus: CPUs of a local Ray (ignored when joining a cluster).
      **ray_init_kwargs: passed on to `ray.init`.

    Returns:
      The `ray` module, initialised.

    Raises:
      ImportError: Ray is not installed.
      ValueError: `num_cpus` is not a positive integer.
    """
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if num_cpus is not None and (isinstance(num_cpus, bool) or not isinstance(num_cpus, int)
                                 or num_cpus < 1):
        raise ValueError(f"init_ray: num_cpus must be an int in [1, inf), got {num_cpus!r}")
    address = address if address is not None else os.environ.get("RAY_ADDRESS")
    kwargs = dict(ray_init_kwargs)
    kwargs.setdefault("include_dashboard", False)
    kwargs.setdefault("log_to_driver", True)
    if address is None:
        ray.init(num_cpus=num_cpus, **kwargs)
    else:
        kwargs.pop("include_dashboard")
        ray.init(address=address, **kwargs)
    return ray
