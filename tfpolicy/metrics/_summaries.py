"""Scalar summaries written without TensorBoard installed."""

from typing import Any

import tensorflow as tf


def write_scalar(name: str, data: Any, step: Any) -> Any:
    """Writes what `tf.summary.scalar` writes to the default summary writer.

    Args:
      name: the tag.
      data: a scalar, cast to float32.
      step: the int64 step.

    Returns:
      True if a summary was written, False without a default writer.
    """
    metadata = tf.compat.v1.SummaryMetadata()
    metadata.plugin_data.plugin_name = "scalars"
    return tf.summary.write(name, tf.cast(data, tf.float32), step=step, metadata=metadata)
