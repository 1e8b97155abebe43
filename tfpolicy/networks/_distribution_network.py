"""What `network.DistributionNetwork` (the base of networks whose outputs are
distributions) adds to `Network`.

A `DistributionNetwork` is a `Network` that also carries an `output_spec`: a
nest (like its output) of `DistributionSpec`s (`specs.distribution_spec`), each
telling how the
distribution is built from its parameters (`build_distribution(**params)`),
which parameters it takes (`input_params_spec`, specs without outer dims) and
what a sample looks like (`sample_spec`). The base stores the nest as given.

Projection networks (TF-Agents' contract, e.g. `NormalProjectionNetwork`)
are called as `net(inputs, outer_rank, training=False, mask=None)`: positional
arguments after the inputs are bound to the parameters of the subclass's
`call` in order, as TF-Agents does, so `outer_rank` is not taken for a
`step_type`.

"""

import functools
import inspect
from typing import Any, Callable, Tuple

from specs import NestedTensor

__all__ = ["DistributionOutput"]


class _OutputSpec:
    """Keeps the output spec nest out of `tf.Module`'s tracking, which would wrap
    its containers."""

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


@functools.lru_cache(maxsize=None)
def _positional_names(call: Callable[..., Any]) -> Tuple[str, ...]:
    """The parameters of a class's `call` after `self` and the inputs that take
    positional arguments (cached: it is read on every positional call)."""
    parameters = list(inspect.signature(call).parameters.values())[2:]
    return tuple(p.name for p in parameters if p.kind in (
        inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD))


class DistributionOutput:
    """The members `network.DistributionNetwork` adds to `Network` (a mixin, so
    this module need not import `network`, which defines the class)."""

    def _set_output_spec(self, output_spec: Any) -> None:
        self._distribution_output_spec = _OutputSpec(output_spec)

    @property
    def output_spec(self) -> Any:
        """The nest of `DistributionSpec`s given to the constructor."""
        return self._distribution_output_spec.value

    def __call__(self, inputs: NestedTensor, *args: Any, **kwargs: Any) -> Tuple[Any, Any]:
        """Runs the network; see `Network.__call__`.

        For `call` networks, positional arguments after `inputs` go to the
        parameters of `call` in order (`net(features, outer_rank)` for
        projection networks); for `_call` networks to `step_type`,
        `network_state` and `training`.

        Raises:
          TypeError: more positional arguments than `call` takes, or an
            argument given both by position and by keyword.
        """
        if not args or not self._uses_call:
            return super().__call__(inputs, *args, **kwargs)
        names = _positional_names(type(self).call)
        owner = type(self).__name__
        if len(args) > len(names):
            raise TypeError(f"{owner}.call takes {len(names)} positional argument(s) after the "
                            f"inputs ({list(names)}), got {len(args)}")
        for name, value in zip(names, args):
            if name in kwargs:
                raise TypeError(f"{owner} got {name!r} both by position and by keyword")
            kwargs[name] = value
        return super().__call__(inputs, **kwargs)
