"""From the policy's batch of actions to one checked action per environment.

RLlib's `normalize_actions` and `clip_actions` act here, on bounded float
leaves only, and only on what the environments receive (the batch keeps
the policy's actions):

- `normalize_actions`: the policy acts in `[-1, 1]`; an action `a` becomes
  `clip(low + (a + 1) (high - low) / 2, low, high)`;
- `clip_actions`: `clip(a, low, high)`.
"""

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import tree

from tfpolicy.environments.py_environment import ActionChecker


def _float_bounds(spec: Any) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """`(low, high)` of a float leaf with finite bounds, else None."""
    if not np.issubdtype(np.dtype(spec.dtype), np.floating):
        return None
    low, high = getattr(spec, "minimum", None), getattr(spec, "maximum", None)
    if low is None or high is None:
        return None
    low, high = np.asarray(low, np.float64), np.asarray(high, np.float64)
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        return None
    return low, high


class EnvActions:
    """Maps `[n, ...]` policy actions to `n` environment actions, checked once per batch.

    Args:
      action_spec: the environments' (unbatched) action spec nest.
      normalize_actions, clip_actions: see the module docstring.
    """

    def __init__(self, action_spec: Any, normalize_actions: bool, clip_actions: bool):
        self._spec = action_spec
        self._single = not tree.is_nested(action_spec)
        mode = "normalize" if normalize_actions else "clip" if clip_actions else None
        self._transforms = []
        for leaf in tree.flatten(action_spec):
            bounds = _float_bounds(leaf) if mode else None
            self._transforms.append(None if bounds is None else
                                    (mode, *bounds, np.dtype(leaf.dtype)))
        self._identity = all(t is None for t in self._transforms)
        self._checkers: Dict[int, ActionChecker] = {}

    def _transformed(self, leaves: List[Any]) -> List[Any]:
        out = []
        for value, transform in zip(leaves, self._transforms):
            if transform is not None:
                mode, low, high, dtype = transform
                value = np.asarray(value, np.float64)
                if mode == "normalize":
                    value = low + (value + 1.0) * (high - low) / 2.0
                value = np.clip(value, low, high).astype(dtype)
            out.append(value)
        return out

    def env_batch(self, actions: Any, n: int) -> Any:
        """The `[n, ...]` actions the environments take, checked against the spec.

        Raises:
          TypeError, ValueError: an action that does not match the spec (path named).
        """
        if not self._identity:
            if self._single:
                actions = self._transformed([actions])[0]
            else:
                actions = tree.unflatten_as(self._spec,
                                            self._transformed(tree.flatten(actions)))
        checker = self._checkers.get(n)
        if checker is None:
            checker = self._checkers[n] = ActionChecker(self._spec, (n,))
        return checker(actions)

    def split(self, actions: Any, n: int) -> List[Any]:
        """`env_batch` split into `n` actions, each a nest of numpy arrays (0-d for scalars)."""
        checked = self.env_batch(actions, n)
        if self._single:
            return [checked[i, ...] for i in range(n)]
        leaves = tree.flatten(checked)
        return [tree.unflatten_as(self._spec, [leaf[i, ...] for leaf in leaves])
                for i in range(n)]

    @property
    def identity(self) -> bool:
        """True when the environments take the policy's actions as they are."""
        return self._identity

    def one(self, action: Any) -> Any:
        """The environment action for one unbatched policy action."""
        return self.split(tree.map_structure(lambda a: np.asarray(a)[None], action), 1)[0]
