"""`PolicySpec`: how a worker builds one of its policies (RLlib's name).

`config["multiagent"]["policies"]` maps policy ids to specs:
`PolicySpec(policy_class, observation_space, action_space, config)`, or a
plain 4-tuple in that order. A `None` field takes the worker's default: the
`default_policy_class`, spaces inferred from the environment (the spaces of
the first agent the mapping function maps to the policy), and no config
overrides. `normalize_policy_specs` accepts RLlib's other spellings too: a
list or set of ids (all defaults), a bare `Policy` class or `None` as a
spec.

>>> specs = normalize_policy_specs({"a": PolicySpec(), "b": (None, None, None, {"lr": 0.1})})
>>> specs["b"].config, specs["a"] == PolicySpec()
({'lr': 0.1}, True)
>>> normalize_policy_specs({"a": (1, 2)})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
TypeError: config key 'multiagent.policies': policy 'a' has the spec (1, 2); expected a PolicySpec(...
"""

from typing import Any, Dict, Mapping, NamedTuple, Optional

__all__ = ["PolicySpec", "normalize_policy_specs"]

_KEY = "config key 'multiagent.policies'"
_EXPECTED = ("expected a PolicySpec(policy_class, observation_space, action_space, config), "
             "a 4-tuple in that order, a Policy class or None")


class PolicySpec(NamedTuple):
    """One policy of a worker: its class, spaces and config overrides (None: the defaults).

    Attributes:
      policy_class: the `Policy` subclass; None for the worker's `default_policy_class`.
      observation_space, action_space: gymnasium spaces or spec nests; None to
        infer them from the environment.
      config: merged over the worker's config for this policy (nested dicts
        merged key by key); None for none.
    """

    policy_class: Optional[type] = None
    observation_space: Any = None
    action_space: Any = None
    config: Optional[Dict[str, Any]] = None


def _spec(policy_id: str, value: Any) -> PolicySpec:
    if value is None:
        return PolicySpec()
    if isinstance(value, PolicySpec):
        return value
    if isinstance(value, type):
        return PolicySpec(policy_class=value)
    if isinstance(value, (tuple, list)) and len(value) == 4:
        return PolicySpec(*value)
    raise TypeError(f"{_KEY}: policy {policy_id!r} has the spec {value!r}; {_EXPECTED}")


def normalize_policy_specs(policies: Any) -> Dict[str, PolicySpec]:
    """`{policy_id: PolicySpec}` from what `config["multiagent"]["policies"]` may hold.

    Args:
      policies: a dict of policy id to spec (`PolicySpec`, 4-tuple, `Policy`
        class or None), or a list/set/tuple of policy ids.

    Raises:
      TypeError: a policy id that is not a str, a spec of another shape, a
        config that is not a dict (each naming the policy id).
    """
    if isinstance(policies, Mapping):
        items = list(policies.items())
    elif isinstance(policies, (list, set, frozenset, tuple)):
        items = [(policy_id, None) for policy_id in policies]
    else:
        raise TypeError(f"{_KEY}: expected a dict of policy id -> PolicySpec or a list of "
                        f"policy ids, got {type(policies).__name__}: {policies!r}")
    specs: Dict[str, PolicySpec] = {}
    for policy_id, value in items:
        if not isinstance(policy_id, str):
            raise TypeError(f"{_KEY}: policy ids must be str, got {policy_id!r} "
                            f"({type(policy_id).__name__})")
        spec = _spec(policy_id, value)
        if spec.config is not None and not isinstance(spec.config, Mapping):
            raise TypeError(f"{_KEY}: policy {policy_id!r} has the config {spec.config!r}; "
                            f"expected a dict or None")
        specs[policy_id] = spec
    return specs
