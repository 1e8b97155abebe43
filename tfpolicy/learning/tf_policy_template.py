"""`build_tf_policy`: a `DynamicTFPolicy` class from a loss and optional callbacks.

RLlib's template, with its argument names and callback signatures:

- `loss_fn(policy, model, dist_class, train_batch)` -> scalar loss;
- `get_default_config()` -> the config defaults;
- `postprocess_fn(policy, sample_batch, other_agent_batches=None, episode=None)`;
- `stats_fn(policy, train_batch)` -> the `learner_stats` dict;
- `optimizer_fn(policy, config)` -> a Keras optimizer;
- `compute_gradients_fn(policy, optimizer, loss)` -> `[(grad, var)]`, with
  `optimizer.compute_gradients(loss, var_list)` available;
- `apply_gradients_fn(policy, optimizer, grads_and_vars)`;
- `grad_stats_fn(policy, train_batch, grads)` -> dict;
- `extra_action_out_fn(policy)` -> per-row outputs of every action computation;
- `extra_learn_fetches_fn(policy)` -> dict;
- `validate_spaces`, `before_init`, `before_loss_init`, `after_init`:
  `(policy, observation_space, action_space, config)`, in that order during
  construction (mixin `__init__`s usually go in `before_loss_init`);
- `make_model(policy, observation_space, action_space, config)` -> a model;
- `action_sampler_fn(policy, model, obs_batch, explore, timestep)` -> `(actions, logp)`;
- `action_distribution_fn(policy, model, input_dict, state_batches, seq_lens,
  explore, timestep, is_training)` -> `(dist_inputs, dist_class, state_out)`;
- `mixins`: classes placed before `DynamicTFPolicy` in the method order, the
  first with the highest priority, so their methods win over the base's;
- `get_batch_divisibility_req(policy)` -> int (or an int).

Every built class has `with_updates(**overrides)`, which builds the class
again with some arguments replaced. There is no dummy batch: the loss is
traced on the first real batch, and a column it reads that the batch lacks
is an error naming the column and those present.

>>> import numpy as np, tensorflow as tf
>>> from specs import ArraySpec, BoundedArraySpec
>>> def pg_loss(policy, model, dist_class, train_batch):
...     logits, _ = model.from_batch(train_batch)
...     logp = dist_class(logits, model).logp(train_batch["actions"])
...     return -tf.reduce_mean(logp * train_batch["rewards"])
>>> MyTFPolicy = build_tf_policy(name="MyTFPolicy", loss_fn=pg_loss)
>>> policy = MyTFPolicy(ArraySpec((3,), np.float32), BoundedArraySpec((), np.int64, 0, 1),
...                     {"model": {"fcnet_hiddens": [8]}})
>>> type(policy).__name__, policy.compute_single_action(np.zeros(3, np.float32))[0].shape
('MyTFPolicy', ())
>>> MyTFPolicy.with_updates(name="Other").__name__
'Other'
"""

import inspect
from typing import Any, Callable, Dict, Optional, Sequence, Type

from tfpolicy.learning.dynamic_tf_policy import DynamicTFPolicy

__all__ = ["build_tf_policy"]

_CALLBACKS = ("get_default_config", "postprocess_fn", "stats_fn", "optimizer_fn",
              "compute_gradients_fn", "apply_gradients_fn", "grad_stats_fn",
              "extra_action_out_fn", "extra_learn_fetches_fn", "validate_spaces", "before_init",
              "before_loss_init", "after_init", "make_model", "action_sampler_fn",
              "action_distribution_fn", "get_batch_divisibility_req")


def build_tf_policy(name: str, *, loss_fn: Callable[..., Any],
                    get_default_config: Optional[Callable[[], Dict[str, Any]]] = None,
                    postprocess_fn: Optional[Callable[..., Any]] = None,
                    stats_fn: Optional[Callable[..., Dict[str, Any]]] = None,
                    optimizer_fn: Optional[Callable[..., Any]] = None,
                    compute_gradients_fn: Optional[Callable[..., Any]] = None,
                    apply_gradients_fn: Optional[Callable[..., Any]] = None,
                    grad_stats_fn: Optional[Callable[..., Dict[str, Any]]] = None,
                    extra_action_out_fn: Optional[Callable[..., Dict[str, Any]]] = None,
                    extra_learn_fetches_fn: Optional[Callable[..., Dict[str, Any]]] = None,
                    validate_spaces: Optional[Callable[..., None]] = None,
                    before_init: Optional[Callable[..., None]] = None,
                    before_loss_init: Optional[Callable[..., None]] = None,
                    after_init: Optional[Callable[..., None]] = None,
                    make_model: Optional[Callable[..., Any]] = None,
                    action_sampler_fn: Optional[Callable[..., Any]] = None,
                    action_distribution_fn: Optional[Callable[..., Any]] = None,
                    mixins: Optional[Sequence[type]] = None,
                    get_batch_divisibility_req: Any = None) -> Type[DynamicTFPolicy]:
    """A `DynamicTFPolicy` subclass named `name` (see the module docstring).

    Args:
      name: the class name.
      loss_fn: `(policy, model, dist_class, train_batch) -> scalar loss`.
      mixins: classes that come before `DynamicTFPolicy` in the method order.
      The others: the callbacks, each None for the default.

    Returns:
      The class; construct it as `cls(observation_space, action_space, config)`.

    Raises:
      TypeError: `loss_fn` or a callback is not callable, or a mixin is not a class.
    """
    arguments = dict(locals())
    if not callable(loss_fn):
        raise TypeError(f"build_tf_policy({name!r}): loss_fn must be callable, got {loss_fn!r}")
    callbacks: Dict[str, Any] = {"loss_fn": loss_fn}
    for key in _CALLBACKS:
        value = arguments[key]
        if value is None:
            continue
        if not callable(value) and not (key == "get_batch_divisibility_req"
                                        and isinstance(value, int)):
            raise TypeError(f"build_tf_policy({name!r}): {key} must be callable, got {value!r}")
        callbacks[key] = value
    mixins = list(mixins or ())
    for mixin in mixins:
        if not isinstance(mixin, type):
            raise TypeError(f"build_tf_policy({name!r}): mixins must be classes, got {mixin!r}")
    template = {k: v for k, v in arguments.items() if k != "name"}

    def with_updates(**overrides: Any) -> Type[DynamicTFPolicy]:
        """This class built again with some `build_tf_policy` arguments replaced."""
        unknown = sorted(set(overrides) - set(template) - {"name"})
        if unknown:
            raise TypeError(f"{name}.with_updates: unknown arguments {unknown}; "
                            f"build_tf_policy takes {sorted(set(template) | {'name'})}")
        arguments = dict(template, name=name)
        arguments.update(overrides)
        return build_tf_policy(**arguments)

    def __init__(self: DynamicTFPolicy, observation_space: Any, action_space: Any,
                 config: Dict[str, Any]) -> None:
        # Mixins come first in the method order and have `__init__`s of their own
        # (called from `before_loss_init`); the class is constructed by the base's.
        DynamicTFPolicy.__init__(self, observation_space, action_space, config)

    namespace = {
        "__init__": __init__,
        "_callbacks": callbacks,
        "with_updates": staticmethod(with_updates),
        "__doc__": f"A `DynamicTFPolicy` built by `build_tf_policy` (loss: "
                   f"{getattr(loss_fn, '__name__', repr(loss_fn))}).",
        "__module__": _caller_module(),
        "__qualname__": name,
    }
    return type(name, tuple(mixins) + (DynamicTFPolicy,), namespace)


def _caller_module() -> str:
    """The module that called `build_tf_policy` (or `with_updates`): a class
    assigned to a module-level name there is importable by `module:name`,
    which is how checkpoints find it again."""
    frame = inspect.currentframe()
    try:
        caller = frame.f_back.f_back if frame and frame.f_back else None
        while caller is not None and caller.f_globals.get("__name__") == __name__:
            caller = caller.f_back
        return caller.f_globals.get("__name__", __name__) if caller else __name__
    finally:
        del frame
