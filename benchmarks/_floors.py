"""The LiteRT floor shared by the benchmark scripts.

The floor of a LiteRT policy is the interpreter running the same network
converted directly (observation in, greedy action out), called with bare
`set_tensor`/`invoke`/`get_tensor`: what a hand-written loop over the
runtime would cost.
"""

from typing import Callable

import numpy as np
import tensorflow as tf

from specs import TensorSpec
from tfpolicy.networks import QNetwork


def lite_argmax(q_network: QNetwork, batch: int) -> Callable[[np.ndarray], np.ndarray]:
    """A bare interpreter call `observation [batch, 4] -> argmax of the Q-values [batch]`."""
    from ai_edge_litert.interpreter import Interpreter

    @tf.function(input_signature=[TensorSpec([None, 4], tf.float32)])
    def network(observation: tf.Tensor) -> tf.Tensor:
        q_values, _ = q_network(observation)
        return tf.argmax(q_values, axis=-1)

    holder = tf.Module()
    holder.weights = q_network.variables
    flatbuffer = tf.lite.TFLiteConverter.from_concrete_functions(
        [network.get_concrete_function()], holder).convert()
    interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
    (input_detail,), (output_detail,) = (interpreter.get_input_details(),
                                         interpreter.get_output_details())
    interpreter.resize_tensor_input(input_detail["index"], [batch, 4])
    interpreter.allocate_tensors()
    set_tensor, invoke, get_tensor = (interpreter.set_tensor, interpreter.invoke,
                                      interpreter.get_tensor)
    in_index, out_index = input_detail["index"], output_detail["index"]

    def call(observation: np.ndarray) -> np.ndarray:
        set_tensor(in_index, observation)
        invoke()
        return get_tensor(out_index)

    check = np.random.default_rng(batch).normal(size=(batch, 4)).astype(np.float32)
    assert np.array_equal(call(check), network(check).numpy())
    return call
