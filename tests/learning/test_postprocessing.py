"""Tests for tfpolicy.learning.postprocessing.

Two kinds: every case recorded from RLlib itself (data/rllib_postprocessing.json,
written by a recording script run with ray[rllib] in a separate venv) must come
out bit for bit, with the same dtypes and the same in-place behaviour; and
rlax-style tests with expectations computed by hand or from relations between
the functions (GAE with λ = 1 is the discounted return minus the values; n-step
rewards with n = T are the λ-returns with λ = 1).
"""

import json
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from tfpolicy.learning import postprocessing
from tfpolicy.learning.postprocessing import (
    Postprocessing,
    adjust_nstep,
    compute_advantages,
    compute_gae_for_sample_batch,
    discount_cumsum,
    explained_variance,
    standardize_fields,
)
from tfpolicy.learning.sample_batch import MultiAgentBatch, SampleBatch
from tfpolicy.learning.sgd import standardized

_FIXTURE = json.loads(
    (pathlib.Path(__file__).parent / "data" / "rllib_postprocessing.json").read_text())


def _element(x, dtype):
    if dtype.kind == "f":
        return float.fromhex(x)
    return bool(x) if dtype.kind == "b" else int(x)


def _decode(value):
    """The fixture's exact encoding back to numpy arrays/scalars and Python values."""
    if not isinstance(value, dict):
        return value
    (kind, payload), = value.items()
    if kind == "array":
        dtype = np.dtype(payload["dtype"])
        data = [_element(x, dtype) for x in payload["data"]]
        return np.array(data, dtype=dtype).reshape(payload["shape"])
    if kind == "scalar":
        dtype = np.dtype(payload["dtype"])
        return dtype.type(_element(payload["value"], dtype))
    if kind == "tensor":
        return tf.constant(_decode(payload))
    if kind == "float":
        return float.fromhex(payload)
    if kind == "int":
        return payload
    if kind == "list":
        return [_decode(v) for v in payload]
    return {k: _decode(v) for k, v in payload.items()}


def _cases(function):
    return [pytest.param(c, id=c["name"]) for c in _FIXTURE["cases"] if c["function"] == function]


def assert_exact(ours, reference, where="value"):
    """Same type, dtype, shape and bits (NaN positions and the signs of zeros included)."""
    if isinstance(reference, dict):
        assert isinstance(ours, dict) and sorted(ours) == sorted(reference), where
        for key in reference:
            assert_exact(ours[key], reference[key], f"{where}[{key!r}]")
        return
    if isinstance(reference, (np.ndarray, np.generic)):
        if isinstance(ours, tf.Tensor):
            ours = ours.numpy()
        assert type(ours) is type(reference), f"{where}: {type(ours)} vs {type(reference)}"
        assert ours.dtype == reference.dtype, f"{where}: {ours.dtype} vs {reference.dtype}"
        assert np.shape(ours) == np.shape(reference), where
        np.testing.assert_array_equal(ours, reference, err_msg=where)
        if reference.dtype.kind == "f":
            finite = ~np.isnan(reference)
            np.testing.assert_array_equal(np.signbit(ours)[finite], np.signbit(reference)[finite],
                                          err_msg=f"{where}: signs of zeros")
        return
    assert type(ours) is type(reference) and ours == reference, \
        f"{where}: {ours!r} vs {reference!r}"


def _copy_columns(columns, container):
    return container({k: v.copy() for k, v in columns.items()})


def _unchanged(before, after):
    return sorted(k for k, v in before.items() if k in after and after[k] is v)


CONTAINERS = [pytest.param(SampleBatch, id="SampleBatch"), pytest.param(dict, id="dict")]


# --------------------------------------------------------------------------- #
# Recorded RLlib outputs.
# --------------------------------------------------------------------------- #
def test_fixture_records_every_function_from_rllib():
    assert _FIXTURE["ray_version"] == "2.40.0"
    functions = {c["function"] for c in _FIXTURE["cases"]}
    assert functions == {"discount_cumsum", "compute_advantages", "compute_gae_for_sample_batch",
                         "adjust_nstep", "standardized", "standardize_fields", "explained_variance"}


@pytest.mark.parametrize("case", _cases("discount_cumsum"))
def test_discount_cumsum_matches_rllib(case):
    inputs, expected = _decode(case["inputs"]), _decode(case["outputs"])
    x = inputs["x"]
    before = x.copy() if isinstance(x, np.ndarray) else list(x)
    assert_exact(discount_cumsum(x, inputs["gamma"]), expected["y"])
    np.testing.assert_array_equal(x, before)


# RLlib fails on these; we raise a ValueError naming the problem.
_ADVANTAGE_ERRORS = {
    "error_missing_values": ["'vf_preds'", "use_critic=True", "['rewards']"],
    "error_gae_without_critic": ["use_gae=True", "use_critic=True"],
}


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("case", _cases("compute_advantages"))
def test_compute_advantages_matches_rllib(case, container):
    inputs = _decode(case["inputs"])
    batch = _copy_columns(inputs["columns"], container)
    before = dict(batch)
    if "error" in case:
        with pytest.raises(ValueError) as error:
            compute_advantages(batch, inputs["last_r"], **inputs["kwargs"])
        for fragment in _ADVANTAGE_ERRORS[case["name"]]:
            assert fragment in str(error.value)
        return
    expected = _decode(case["outputs"])
    out = compute_advantages(batch, inputs["last_r"], **inputs["kwargs"])
    assert out is batch
    assert_exact(dict(out), expected["columns"])
    assert list(out) == list(expected["columns"])
    assert _unchanged(before, out) == expected["unchanged_column_objects"]


class StubPolicy:
    """The recording script's stub: V = 0.25 * sum(obs) - 0.5, returned as `value_type`."""

    def __init__(self, config, value_type="float"):
        self.config = config
        self.value_type = value_type
        self.calls = []

    def _value(self, **input_dict):
        obs = np.asarray(input_dict[SampleBatch.OBS])
        self.calls.append({"inputs": input_dict, "obs": obs})
        v = 0.25 * float(obs.astype(np.float64).sum()) - 0.5
        if self.value_type == "np_float32":
            return np.float32(v)
        if self.value_type == "np_float64_0d":
            return np.array(v, np.float64)
        if self.value_type == "tf_float32":
            return tf.constant(v, tf.float32)
        if self.value_type == "tf_float64":
            return tf.constant(v, tf.float64)
        if self.value_type == "array_1":
            return np.array([v], np.float32)
        if self.value_type == "tensor_1":
            return tf.constant([v], tf.float32)
        return v


def _gae_case(name):
    case, = (c for c in _FIXTURE["cases"]
             if c["function"] == "compute_gae_for_sample_batch" and c["name"] == name)
    return case


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("case", [c for c in _cases("compute_gae_for_sample_batch")
                                  if "error" not in c.values[0]])
def test_compute_gae_for_sample_batch_matches_rllib(case, container):
    inputs, expected = _decode(case["inputs"]), _decode(case["outputs"])
    policy = StubPolicy(dict(inputs["config"]), inputs["value_type"])
    batch = _copy_columns(inputs["columns"], container)
    before = dict(batch)
    out = compute_gae_for_sample_batch(policy, batch)
    assert out is batch
    assert_exact(dict(out), expected["columns"])
    assert _unchanged(before, out) == expected["unchanged_column_objects"]
    assert len(policy.calls) == len(expected["value_calls"])
    for ours, theirs in zip(policy.calls, expected["value_calls"]):
        assert_exact(ours["obs"], theirs["obs"])


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("ending", ["truncated", "terminated"])
def test_compute_gae_for_sample_batch_column_shaped_values(ending, container):
    # RLlib 2.40 fails on [T, 1] vf_preds/rewards (it recorded the error); the numbers
    # are those of the same trajectory with [T] columns, the shapes those RLlib intends.
    case_t1, case = _gae_case(f"{ending}_column_values_T1"), _gae_case(ending)
    assert "must have same number of dimensions" in case_t1["error"]["message"]
    inputs_t1, inputs, expected = (_decode(case_t1["inputs"]), _decode(case["inputs"]),
                                   _decode(case["outputs"]))
    columns = expected["columns"]
    for key in ("vf_preds", "rewards"):
        np.testing.assert_array_equal(inputs_t1["columns"][key][:, 0], inputs["columns"][key])
    policy = StubPolicy(dict(inputs_t1["config"]))
    batch = _copy_columns(inputs_t1["columns"], container)
    out = compute_gae_for_sample_batch(policy, batch)
    expanded = {k: (v[:, None] if k in ("vf_preds", "rewards", "values_bootstrapped", "advantages")
                    else v) for k, v in columns.items()}
    assert_exact(dict(out), expanded)


# RLlib asserts (or indexes out of range) on these.
_NSTEP_ERRORS = {
    "error_terminated_in_middle": "terminateds at rows [2]",
    "error_truncated_in_middle": "truncateds at rows [1]",
}


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("case", _cases("adjust_nstep"))
def test_adjust_nstep_matches_rllib(case, container):
    inputs = _decode(case["inputs"])
    batch = _copy_columns(inputs["columns"], container)
    before = dict(batch)
    rewards = batch["rewards"]
    if case["name"] == "error_empty":
        # RLlib raises IndexError on an empty batch; there is nothing to adjust.
        assert adjust_nstep(inputs["n_step"], inputs["gamma"], batch) is None
        assert_exact(dict(batch), inputs["columns"])
        return
    if "error" in case:
        with pytest.raises(ValueError, match="single trajectory") as error:
            adjust_nstep(inputs["n_step"], inputs["gamma"], batch)
        assert _NSTEP_ERRORS[case["name"]] in str(error.value)
        return
    expected = _decode(case["outputs"])
    assert adjust_nstep(inputs["n_step"], inputs["gamma"], batch) is expected["returned"]
    assert_exact(dict(batch), expected["columns"])
    assert batch["rewards"] is rewards
    assert _unchanged(before, batch) == expected["unchanged_column_objects"]


@pytest.mark.parametrize("case", _cases("standardized"))
def test_standardized_matches_rllib(case):
    inputs, expected = _decode(case["inputs"]), _decode(case["outputs"])
    assert_exact(standardized(inputs["x"]), expected["y"])


@pytest.mark.parametrize("case", _cases("standardize_fields"))
def test_standardize_fields_matches_rllib(case):
    inputs, expected = _decode(case["inputs"]), _decode(case["outputs"])
    batches = {pid: _copy_columns(cols, SampleBatch)
               for pid, cols in inputs["policy_batches"].items()}
    before = {pid: dict(b) for pid, b in batches.items()}
    if inputs["multi_agent"]:
        samples = MultiAgentBatch(batches, 10)
    else:
        samples, = batches.values()
    assert standardize_fields(samples, inputs["fields"]) is samples
    assert_exact({pid: dict(b) for pid, b in batches.items()}, expected["policy_batches"])
    assert ({pid: _unchanged(before[pid], b) for pid, b in batches.items()}
            == expected["unchanged_column_objects"])


@pytest.mark.parametrize("case", _cases("explained_variance"))
def test_explained_variance_matches_rllib(case):
    inputs, expected = _decode(case["inputs"]), _decode(case["outputs"])
    y, pred = inputs["y"], inputs["pred"]
    ours = explained_variance(y, pred)
    assert not tf.is_tensor(ours)
    assert_exact(ours, expected["ev"])
    as_tensor = explained_variance(tf.constant(y), tf.constant(pred))
    assert tf.is_tensor(as_tensor)
    assert_exact(as_tensor.numpy(), expected["ev"])


# --------------------------------------------------------------------------- #
# discount_cumsum, by hand.
# --------------------------------------------------------------------------- #
class TestDiscountCumsum:

    def setup_method(self):
        self.x = np.array([1.0, 2.0, 4.0])
        # y_2 = 4, y_1 = 2 + 0.5 * 4, y_0 = 1 + 0.5 * 4.
        self.expected = np.array([3.0, 4.0, 4.0])

    def test_discount_cumsum_by_hand(self):
        assert_exact(discount_cumsum(self.x, 0.5), self.expected)

    def test_discount_cumsum_gamma_zero_is_identity(self):
        assert_exact(discount_cumsum(self.x, 0.0), self.x)

    def test_discount_cumsum_gamma_one_is_reverse_cumsum(self):
        assert_exact(discount_cumsum(self.x, 1.0), np.array([7.0, 6.0, 4.0]))

    def test_discount_cumsum_each_column_of_a_matrix(self):
        x = np.stack([self.x, 2 * self.x, -self.x], axis=1).astype(np.float32)
        assert_exact(discount_cumsum(x, 0.5),
                     np.stack([self.expected, 2 * self.expected, -self.expected], axis=1))

    def test_discount_cumsum_equals_the_reverse_recurrence(self):
        x = np.random.default_rng(0).normal(size=4000)
        expected = np.empty_like(x)
        running = 0.0
        for t in reversed(range(len(x))):
            running = x[t] + 0.99 * running
            expected[t] = running
        np.testing.assert_array_equal(discount_cumsum(x, 0.99), expected)

    def test_discount_cumsum_promotes_to_float64(self):
        for dtype in (np.float16, np.float32, np.int32, np.int64, np.bool_):
            assert discount_cumsum(self.x.astype(dtype), 0.5).dtype == np.float64

    def test_discount_cumsum_rejects_a_scalar(self):
        with pytest.raises(ValueError, match="time axis"):
            discount_cumsum(np.float64(1.0), 0.9)


# --------------------------------------------------------------------------- #
# compute_advantages, by hand and by relations.
# --------------------------------------------------------------------------- #
class TestComputeAdvantages:

    def setup_method(self):
        self.r_t = np.array([1.0, 0.0, 2.0], np.float32)
        self.v_t = np.array([0.5, 1.0, 0.5], np.float32)
        self.last_r = 2.0
        self.gamma = 0.5
        # δ_t = r_t + γ V(s_{t+1}) − V(s_t), with V(s_3) = last_r.
        self.delta_t = np.array(
            [1.0 + 0.5 * 1.0 - 0.5, 0.0 + 0.5 * 0.5 - 1.0, 2.0 + 0.5 * 2.0 - 0.5])
        # G_t = r_t + γ G_{t+1}, G_3 = last_r.
        self.g_t = np.array([1.0 + 0.5 * (0.0 + 0.5 * (2.0 + 0.5 * 2.0)),
                             0.0 + 0.5 * (2.0 + 0.5 * 2.0), 2.0 + 0.5 * 2.0])

    def batch(self, **extra):
        return {"rewards": self.r_t.copy(), "vf_preds": self.v_t.copy(), **extra}

    def test_gae_lambda_zero_is_the_td_error(self):
        out = compute_advantages(self.batch(), self.last_r, self.gamma, lambda_=0.0)
        np.testing.assert_allclose(out[Postprocessing.ADVANTAGES], self.delta_t, rtol=1e-6)
        np.testing.assert_allclose(out[Postprocessing.VALUE_TARGETS], self.delta_t + self.v_t,
                                   rtol=1e-6)

    def test_gae_by_hand(self):
        lam = 0.5
        a_2 = self.delta_t[2]
        a_1 = self.delta_t[1] + self.gamma * lam * a_2
        a_0 = self.delta_t[0] + self.gamma * lam * a_1
        out = compute_advantages(self.batch(), self.last_r, self.gamma, lambda_=lam)
        np.testing.assert_allclose(out[Postprocessing.ADVANTAGES], [a_0, a_1, a_2], rtol=1e-6)

    def test_gae_lambda_one_is_discounted_return_minus_values(self):
        gae = compute_advantages(self.batch(), self.last_r, self.gamma, lambda_=1.0)
        mc = compute_advantages(self.batch(), self.last_r, self.gamma, use_gae=False)
        np.testing.assert_allclose(gae[Postprocessing.ADVANTAGES], self.g_t - self.v_t, rtol=1e-6)
        np.testing.assert_allclose(gae[Postprocessing.ADVANTAGES], mc[Postprocessing.ADVANTAGES],
                                   rtol=1e-6)
        np.testing.assert_allclose(mc[Postprocessing.VALUE_TARGETS], self.g_t, rtol=1e-6)

    def test_gae_value_targets_are_lambda_returns(self):
        lam = 0.7
        out = compute_advantages(self.batch(), self.last_r, self.gamma, lambda_=lam)
        # G^λ_t = r_t + γ ((1 − λ) V(s_{t+1}) + λ G^λ_{t+1}), G^λ_T = V(s_T).
        values = np.append(self.v_t, self.last_r).astype(np.float64)
        lambda_return = np.empty(3)
        following = self.last_r
        for t in reversed(range(3)):
            following = self.r_t[t] + self.gamma * ((1 - lam) * values[t + 1] + lam * following)
            lambda_return[t] = following
        np.testing.assert_allclose(out[Postprocessing.VALUE_TARGETS], lambda_return, rtol=1e-6)

    def test_without_critic_advantages_are_returns_and_targets_zero(self):
        out = compute_advantages({"rewards": self.r_t.copy()}, self.last_r, self.gamma,
                                 use_gae=False, use_critic=False)
        np.testing.assert_allclose(out[Postprocessing.ADVANTAGES], self.g_t, rtol=1e-6)
        assert_exact(out[Postprocessing.VALUE_TARGETS], np.zeros(3, np.float32))

    def test_outputs_are_float32_and_the_batch_is_updated_in_place(self):
        batch = self.batch()
        out = compute_advantages(batch, np.float64(self.last_r), self.gamma, lambda_=0.9)
        assert out is batch
        assert out[Postprocessing.ADVANTAGES].dtype == np.float32
        assert out[Postprocessing.VALUE_TARGETS].dtype == np.float32

    def test_overrides_need_no_columns(self):
        out = compute_advantages({}, self.last_r, self.gamma, lambda_=1.0,
                                 rewards=self.r_t, vf_preds=self.v_t)
        np.testing.assert_allclose(out[Postprocessing.ADVANTAGES], self.g_t - self.v_t, rtol=1e-6)

    def test_last_r_may_be_a_one_element_array_or_tensor(self):
        scalar = compute_advantages(self.batch(), np.float32(self.last_r), self.gamma)
        for last_r in (np.array([self.last_r], np.float32), tf.constant([self.last_r])):
            out = compute_advantages(self.batch(), last_r, self.gamma)
            assert_exact(out[Postprocessing.ADVANTAGES], scalar[Postprocessing.ADVANTAGES])

    def test_missing_values_name_the_column_and_the_columns_present(self):
        with pytest.raises(ValueError, match=r"'vf_preds'.*\['obs', 'rewards'\]"):
            compute_advantages({"rewards": self.r_t, "obs": self.r_t}, 0.0)

    def test_missing_rewards_name_the_column(self):
        with pytest.raises(ValueError, match="'rewards'"):
            compute_advantages({"vf_preds": self.v_t}, 0.0)

    def test_gae_without_critic_is_refused(self):
        with pytest.raises(ValueError, match="use_gae=True needs a value function"):
            compute_advantages(self.batch(), 0.0, use_critic=False)

    def test_shapes_are_checked(self):
        with pytest.raises(ValueError, match=r"rewards must have shape \[T\]"):
            compute_advantages({"rewards": self.r_t[:, None], "vf_preds": self.v_t}, 0.0)
        with pytest.raises(ValueError, match=r"vf_preds must have the rewards' shape \(3,\)"):
            # RLlib would broadcast [T] - [T, 1] to [T, T] here without a word.
            compute_advantages({"rewards": self.r_t, "vf_preds": self.v_t[:, None]}, 0.0,
                               use_gae=False)
        with pytest.raises(ValueError, match="last_r must be a single value"):
            compute_advantages(self.batch(), np.zeros(2), use_gae=False)


# --------------------------------------------------------------------------- #
# compute_gae_for_sample_batch, by hand.
# --------------------------------------------------------------------------- #
class TestComputeGaeForSampleBatch:

    def setup_method(self):
        self.config = {"gamma": 0.5, "lambda": 1.0, "use_gae": True}
        # V(new_obs[-1]) = 0.25 * (2 + 4) - 0.5 = 1.0 with the stub policy.
        self.columns = {
            "obs": np.array([[0.0, 0.0], [1.0, 1.0]], np.float32),
            "new_obs": np.array([[1.0, 1.0], [2.0, 4.0]], np.float32),
            "actions": np.array([0, 1]),
            "rewards": np.array([1.0, 1.0], np.float32),
            "terminateds": np.array([False, False]),
            "truncateds": np.array([False, False]),
            "vf_preds": np.array([0.5, 0.5], np.float32),
        }

    def run(self, container=SampleBatch, value_type="float", **changes):
        columns = {**self.columns, **changes}
        policy = StubPolicy(self.config, value_type)
        batch = compute_gae_for_sample_batch(policy, container(columns))
        return batch, policy

    def test_truncation_bootstraps_from_the_last_next_observation(self):
        batch, policy = self.run(truncateds=np.array([False, True]))
        # δ_1 = 1 + 0.5 * 1.0 − 0.5, δ_0 = 1 + 0.5 * 0.5 − 0.5; A_0 = δ_0 + 0.5 δ_1.
        assert_exact(batch[SampleBatch.VALUES_BOOTSTRAPPED], np.array([0.5, 1.0], np.float32))
        assert_exact(batch[Postprocessing.ADVANTAGES], np.array([1.25, 1.0], np.float32))
        assert_exact(batch[Postprocessing.VALUE_TARGETS], np.array([1.75, 1.5], np.float32))
        call, = policy.calls
        assert_exact(call["obs"], self.columns["new_obs"][-1:])

    def test_a_cut_fragment_bootstraps_like_a_truncation(self):
        cut, _ = self.run()
        truncated, _ = self.run(truncateds=np.array([False, True]))
        assert_exact(cut[Postprocessing.ADVANTAGES], truncated[Postprocessing.ADVANTAGES])

    def test_termination_bootstraps_from_zero_without_calling_the_value(self):
        batch, policy = self.run(terminateds=np.array([False, True]))
        assert policy.calls == []
        # δ_1 = 1 − 0.5, δ_0 = 1 + 0.5 * 0.5 − 0.5; A_0 = δ_0 + 0.5 δ_1.
        assert_exact(batch[SampleBatch.VALUES_BOOTSTRAPPED], np.array([0.5, 0.0], np.float32))
        assert_exact(batch[Postprocessing.ADVANTAGES], np.array([1.0, 0.5], np.float32))
        assert_exact(batch[Postprocessing.VALUE_TARGETS], np.array([1.5, 1.0], np.float32))

    def test_value_inputs_follow_the_last_step(self):
        state_out = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
        _, policy = self.run(prev_actions=np.array([0, 0]), prev_rewards=np.array([0.0, 1.0]),
                             state_out_0=state_out, state_in_0=np.zeros((2, 2), np.float32))
        inputs = policy.calls[0]["inputs"]
        assert_exact(inputs["obs"], self.columns["new_obs"][-1:])
        assert_exact(inputs["prev_actions"], self.columns["actions"][-1:])
        assert_exact(inputs["prev_rewards"], self.columns["rewards"][-1:])
        assert_exact(inputs["state_in_0"], state_out[-1:])
        assert_exact(inputs["seq_lens"], np.array([1], np.int32))

    @pytest.mark.parametrize("value_type", ["array_1", "tensor_1", "tf_float32", "np_float32"])
    def test_value_may_be_a_scalar_or_one_element_array_or_tensor(self, value_type):
        batch, _ = self.run(value_type=value_type)
        assert_exact(batch[Postprocessing.ADVANTAGES], np.array([1.25, 1.0], np.float32))

    def test_a_plain_dict_is_updated_in_place(self):
        columns = dict(self.columns)
        policy = StubPolicy(self.config)
        assert compute_gae_for_sample_batch(policy, columns) is columns
        assert_exact(columns[Postprocessing.ADVANTAGES], np.array([1.25, 1.0], np.float32))

    def test_no_critic_needs_no_values(self):
        self.config = {"gamma": 0.5, "use_gae": False, "use_critic": False}
        columns = {k: v for k, v in self.columns.items() if k != "vf_preds"}
        columns["terminateds"] = np.array([False, True])
        batch = compute_gae_for_sample_batch(StubPolicy(self.config), SampleBatch(columns))
        assert SampleBatch.VALUES_BOOTSTRAPPED not in batch
        assert_exact(batch[Postprocessing.ADVANTAGES], np.array([1.5, 1.0], np.float32))
        assert_exact(batch[Postprocessing.VALUE_TARGETS], np.zeros(2, np.float32))

    @pytest.mark.parametrize("key", ["gamma", "lambda", "use_gae"])
    def test_missing_config_key_is_named(self, key):
        self.config = {k: v for k, v in self.config.items() if k != key}
        with pytest.raises(ValueError, match=f"policy.config has no '{key}'"):
            self.run()

    def test_lambda_is_only_needed_with_gae(self):
        self.config = {"gamma": 0.5, "use_gae": False}
        batch, _ = self.run(terminateds=np.array([False, True]))
        assert_exact(batch[Postprocessing.VALUE_TARGETS], np.array([1.5, 1.0], np.float32))

    def test_missing_values_with_a_critic_name_the_column(self):
        columns = {k: v for k, v in self.columns.items() if k != "vf_preds"}
        with pytest.raises(ValueError, match=r"'vf_preds'.*use_critic=True.*\['actions'"):
            compute_gae_for_sample_batch(StubPolicy(self.config), SampleBatch(columns))

    def test_empty_batch_is_refused(self):
        empty = {k: v[:0] for k, v in self.columns.items()}
        with pytest.raises(ValueError, match="no rows"):
            compute_gae_for_sample_batch(StubPolicy(self.config), SampleBatch(empty))

    def test_values_and_rewards_must_both_be_columns(self):
        with pytest.raises(ValueError, match=r"\[T, 1\] vf_preds need \[T, 1\] rewards"):
            self.run(vf_preds=self.columns["vf_preds"][:, None])


# --------------------------------------------------------------------------- #
# adjust_nstep, by hand and by relations.
# --------------------------------------------------------------------------- #
class TestAdjustNstep:

    def setup_method(self):
        self.obs = np.arange(5, dtype=np.float32)[:, None]
        self.columns = {
            "obs": self.obs[:-1].copy(),
            "new_obs": self.obs[1:].copy(),
            "actions": np.array([0, 1, 0, 1]),
            "rewards": np.array([1.0, 2.0, 3.0, 4.0], np.float32),
            "terminateds": np.array([False, False, False, True]),
            "truncateds": np.array([False, False, False, False]),
        }

    def test_two_step_by_hand(self):
        batch = SampleBatch(self.columns)
        adjust_nstep(2, 0.5, batch)
        # r_t + 0.5 r_{t+1}; the last row keeps its reward.
        assert_exact(batch["rewards"], np.array([2.0, 3.5, 5.0, 4.0], np.float32))
        # new_obs_t = obs_{t+2}, then the final next observation.
        assert_exact(batch["new_obs"], self.obs[[2, 3, 4, 4]])
        assert_exact(batch["terminateds"], np.array([False, False, True, True]))
        assert_exact(batch["obs"], self.obs[:-1])

    def test_n_step_equals_lambda_returns_when_n_covers_the_trajectory(self):
        rewards = np.random.default_rng(1).normal(size=4)
        batch = SampleBatch({**self.columns, "rewards": rewards.copy()})
        adjust_nstep(4, 0.9, batch)
        # A terminated trajectory: the λ = 1 return with V(s_T) = 0.
        lambda_returns = compute_advantages(
            {"rewards": rewards, "vf_preds": np.zeros(4)}, 0.0, 0.9, lambda_=1.0)
        np.testing.assert_allclose(batch["rewards"], lambda_returns[Postprocessing.VALUE_TARGETS],
                                   rtol=1e-6)
        np.testing.assert_allclose(batch["rewards"], discount_cumsum(rewards, 0.9), rtol=1e-12)
        assert_exact(batch["new_obs"], np.repeat(self.obs[-1:], 4, axis=0))

    def test_integer_rewards_truncate_each_partial_sum(self):
        batch = {**self.columns, "rewards": np.array([1, 1, 1, 1])}
        adjust_nstep(3, 0.5, batch)
        # Row 0: int(1 + 0.5) = 1, then int(1 + 0.25) = 1.
        assert_exact(batch["rewards"], np.array([1, 1, 1, 1]))

    def test_nested_observations_are_shifted_leaf_by_leaf(self):
        obs = {"a": self.obs, "b": (self.obs * 10).astype(np.int64)}
        batch = {**self.columns,
                 "obs": {k: v[:-1] for k, v in obs.items()},
                 "new_obs": {k: v[1:] for k, v in obs.items()}}
        adjust_nstep(3, 0.5, batch)
        assert_exact(batch["new_obs"], {k: v[[3, 4, 4, 4]] for k, v in obs.items()})

    def test_n_step_must_be_positive(self):
        with pytest.raises(ValueError, match="n_step must be an integer >= 1"):
            adjust_nstep(0, 0.9, SampleBatch(self.columns))

    def test_missing_column_is_named(self):
        columns = {k: v for k, v in self.columns.items() if k != "new_obs"}
        with pytest.raises(ValueError, match=r"'new_obs'.*\['actions', 'obs'"):
            adjust_nstep(2, 0.9, columns)


# --------------------------------------------------------------------------- #
# standardize_fields and explained_variance, by hand.
# --------------------------------------------------------------------------- #
def test_standardize_fields_by_hand():
    batch = {"advantages": np.array([1.0, 2.0, 3.0]), "rewards": np.array([5.0, 5.0, 5.0])}
    rewards = batch["rewards"]
    assert standardize_fields(batch, ["advantages", "rewards", "missing"]) is batch
    np.testing.assert_allclose(batch["advantages"], np.array([-1.0, 0.0, 1.0]) / np.sqrt(2 / 3))
    # A constant column: the standard deviation is clamped at 1e-4, not divided by 0.
    assert_exact(batch["rewards"], np.zeros(3))
    assert batch["rewards"] is not rewards


def test_explained_variance_by_hand():
    y = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    assert explained_variance(y, y) == np.float32(1.0)
    # A mean predictor explains nothing: 1 − Var[y] / (Var[y] + 1e-6).
    np.testing.assert_allclose(explained_variance(y, np.full(4, 2.5, np.float32)), 0.0, atol=1e-6)
    assert explained_variance(y, -5 * y) == np.float32(-1.0)


def test_explained_variance_in_a_tf_function():
    y = tf.constant([1.0, 2.0, 3.0, 4.0])
    compiled = tf.function(explained_variance)
    np.testing.assert_allclose(compiled(y, y + 0.5).numpy(), 1.0, rtol=1e-6)


def test_public_names():
    assert Postprocessing.ADVANTAGES == "advantages"
    assert Postprocessing.VALUE_TARGETS == "value_targets"
    for name in postprocessing.__all__:
        assert hasattr(postprocessing, name)
