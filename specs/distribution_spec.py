"""`DistributionSpec`: how a network's distribution output is built (TF-Agents' name).

A `DistributionSpec` tells how one distribution is built from its parameters
(`build_distribution(**params)`), which parameters it takes
(`input_params_spec`, specs without outer dims) and what one sample looks
like (`sample_spec`). Distribution networks carry a nest of them as their
`output_spec` (see `tfpolicy.networks.network.DistributionNetwork`).

>>> import tensorflow as tf
>>> import tensorflow_probability as tfp
>>> spec = DistributionSpec(tfp.distributions.Normal,
...                         {"loc": tf.TensorSpec([]), "scale": tf.TensorSpec([])},
...                         sample_spec=tf.TensorSpec([]), scale=2.0)
>>> float(spec.build_distribution(loc=1.0).stddev())
2.0
"""

from typing import Any, Callable, Dict

from specs.types import NestedTensorSpec

__all__ = ["DistributionSpec"]


class DistributionSpec:
    """How to build one distribution from its parameters.

    Args:
      builder: a callable `**params -> tfp distribution` (a distribution class
        works).
      input_params_spec: the nest of specs of the parameters the builder
        takes, without outer dims.
      sample_spec: the spec of one sample (without outer dims).
      **distribution_parameters: fixed keyword arguments of the builder;
        `build_distribution` arguments of the same name replace them.
    """

    __slots__ = ("_builder", "_input_params_spec", "_sample_spec", "_distribution_parameters")

    def __init__(self, builder: Callable[..., Any], input_params_spec: NestedTensorSpec,
                 sample_spec: NestedTensorSpec, **distribution_parameters: Any):
        if not callable(builder):
            raise TypeError(f"DistributionSpec: builder must be callable, got {builder!r}")
        self._builder = builder
        self._input_params_spec = input_params_spec
        self._sample_spec = sample_spec
        self._distribution_parameters = distribution_parameters

    @property
    def builder(self) -> Callable[..., Any]:
        """The callable that builds the distribution."""
        return self._builder

    @property
    def input_params_spec(self) -> NestedTensorSpec:
        """The specs of the builder's parameters, without outer dims."""
        return self._input_params_spec

    @property
    def sample_spec(self) -> NestedTensorSpec:
        """The spec of one sample."""
        return self._sample_spec

    @property
    def distribution_parameters(self) -> Dict[str, Any]:
        """The fixed keyword arguments of the builder."""
        return dict(self._distribution_parameters)

    def build_distribution(self, **distribution_parameters: Any) -> Any:
        """The distribution for these parameters (over the fixed ones)."""
        return self._builder(**{**self._distribution_parameters, **distribution_parameters})

    def __repr__(self) -> str:
        return (f"DistributionSpec(builder={self._builder!r}, "
                f"input_params_spec={self._input_params_spec!r}, "
                f"sample_spec={self._sample_spec!r})")
