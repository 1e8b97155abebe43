"""What the categorical and normal heads share: the holder that keeps specs
out of `tf.Module`'s tracking, the small initializer of their output layers
and the outer shape of their features."""

from typing import Optional

import keras
import tensorflow as tf

from specs import NestedTensorSpec


class _Structure:
    """Keeps a spec nest out of `tf.Module`'s tracking, which would wrap its containers."""

    __slots__ = ("spec",)

    def __init__(self, spec: NestedTensorSpec):
        self.spec = spec


def _small_initializer(scale: float = 0.1, seed: Optional[int] = None
                       ) -> keras.initializers.Initializer:
    # Outputs near zero at the start: near-uniform categoricals, centred means.
    return keras.initializers.VarianceScaling(scale=scale, seed=seed)


def _outer_shape(features: tf.Tensor) -> tf.Tensor:
    return tf.shape(features)[:-1]
