"""Tests for multi-agent sampling in RolloutWorker (tfpolicy.evaluation._multi_agent_runner),
Episode and PolicySpec: rows, routing to policies, other_agent_batches, turn-based and
early-ending agents, step counting, seeding, learning only the policies to train, and the
named errors.

Expectations are hand-computed on tiny deterministic envs:

- `TwoCounters`: agents "a" and "b" see `[start + t, agent_index]` (`start` from the reset
  seed), get rewards `t` and `10 t` at step `t` (1-based), and the episode terminates after
  `length` steps; agent "b" may terminate alone after `b_length` steps.
- `TakeTurns`: agents "x" and "y" move in turns (x first); each move gives the mover 1 and
  the waiting agent 100; the observation is `[env step]`.
"""

import gymnasium as gym
import numpy as np
import pytest
import tensorflow as tf

from tfpolicy.evaluation import (Episode, MultiAgentEnv, PolicySpec, RolloutWorker,
                                 make_multi_agent, summarize_episodes)
from tfpolicy.evaluation import _seeding
from tfpolicy.evaluation.policy_spec import normalize_policy_specs
from tfpolicy.learning import (MultiAgentBatch, Policy, SampleBatch, ValueNetworkMixin,
                               build_tf_policy, compute_gae_for_sample_batch)


class TwoCounters(MultiAgentEnv):
    def __init__(self, config=None):
        config = config or {}
        self.length = config.get("length", 3)
        self.b_length = config.get("b_length", self.length)
        self.possible_agents = ["a", "b"]
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (2,), np.float32)
        self.action_space = gym.spaces.Discrete(2)
        self.seeds, self.actions = [], []

    def reset(self, *, seed=None, options=None):
        self.seeds.append(seed)
        self.start = 0 if seed is None else (seed % 1000) * 10
        self.t = 0
        return self._obs(["a", "b"]), {}

    def _obs(self, agents):
        return {a: np.array([self.start + self.t, "ab".index(a)], np.float32) for a in agents}

    def step(self, action_dict):
        self.actions.append(dict(action_dict))
        self.t += 1
        done = self.t == self.length
        live = ["a"] + (["b"] if self.t <= self.b_length else [])
        rewards = {a: float(self.t) * (1 if a == "a" else 10) for a in live}
        terminateds = {a: done or (a == "b" and self.t == self.b_length) for a in live}
        terminateds["__all__"] = done
        return self._obs(live), rewards, terminateds, {"__all__": False}, {}


class TakeTurns(MultiAgentEnv):
    def __init__(self, config=None):
        config = config or {}
        self.length = config.get("length", 5)
        self.final_for_all = config.get("final_for_all", True)
        self.possible_agents = ["x", "y"]
        self.observation_space = gym.spaces.Box(0, 100, (1,), np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        self.k = 0
        return {"x": np.array([0], np.float32)}, {}

    def step(self, action_dict):
        mover = "x" if self.k % 2 == 0 else "y"
        waiting = "y" if mover == "x" else "x"
        assert list(action_dict) == [mover]
        self.k += 1
        done = self.k == self.length
        obs = np.array([self.k], np.float32)
        agents = [waiting, mover] if done and self.final_for_all else [waiting]
        return ({a: obs for a in agents}, {mover: 1.0, waiting: 100.0},
                {"__all__": done}, {"__all__": False}, {})


class Echo(Policy):
    """Action `obs[0] % 2`; the extra fetch `seen = 2 obs[0]`; counts calls and learning."""

    def __init__(self, observation_space, action_space, config):
        super().__init__(observation_space, action_space, config)
        self.calls = []
        self.w = np.zeros(1, np.float32)
        self.postprocessed = []

    def compute_actions(self, obs_batch, state_batches=None, prev_action_batch=None,
                        prev_reward_batch=None, info_batch=None, episodes=None, **kwargs):
        obs = np.asarray(obs_batch)
        self.calls.append(len(obs))
        return obs[:, 0].astype(np.int64) % 2, [], {"seen": obs[:, 0] * 2}

    def postprocess_trajectory(self, sample_batch, other_agent_batches=None, episode=None):
        self.postprocessed.append((sample_batch.copy(), other_agent_batches, episode))
        return sample_batch

    def learn_on_batch(self, samples):
        self.w += 1
        return {"rows": len(samples)}

    def compute_gradients(self, batch):
        return [np.full(1, len(batch), np.float32)], {"rows": len(batch)}

    def apply_gradients(self, gradients):
        self.w += gradients[0]

    def get_weights(self):
        return {"w": self.w.copy()}

    def set_weights(self, weights):
        self.w = np.array(weights["w"])


def by_name(agent_id, episode, worker, **kwargs):
    return "p" + agent_id


TWO_POLICIES = {"pa": PolicySpec(), "pb": PolicySpec()}


def worker(env=TwoCounters, policies=None, mapping=by_name, num_envs=1, steps=4, seed=7,
           env_config=None, policy=Echo, **config):
    multiagent = dict(config.pop("multiagent", {}))
    multiagent.setdefault("policies", TWO_POLICIES if policies is None else policies)
    multiagent.setdefault("policy_mapping_fn", mapping)
    return RolloutWorker(env, policy, dict({
        "num_envs_per_worker": num_envs, "rollout_fragment_length": steps, "seed": seed,
        "env_config": env_config or {"length": 3}, "multiagent": multiagent}, **config))


def start_of(episode_seed):
    return (episode_seed.seed % 1000) * 10


def column(batch, key):
    return batch[key].tolist()


# ---- rows --------------------------------------------------------------------------------


def test_two_agents_rows_are_hand_computed():
    w = worker()
    batch = w.sample()
    assert isinstance(batch, MultiAgentBatch)
    assert batch.env_steps() == 4 and batch.agent_steps() == 8
    first, second = (start_of(_seeding.episode_seed(7, 0, 0, e)) for e in range(2))
    for pid, scale, index in (("pa", 1, 0), ("pb", 10, 1)):
        rows = batch[pid]
        assert set(rows) == {"obs", "new_obs", "actions", "rewards", "terminateds",
                             "truncateds", "eps_id", "t", "agent_index", "unroll_id", "seen"}
        np.testing.assert_array_equal(rows["obs"], [[first, index], [first + 1, index],
                                                     [first + 2, index], [second, index]])
        np.testing.assert_array_equal(rows["new_obs"][:, 0], [first + 1, first + 2,
                                                              first + 3, second + 1])
        np.testing.assert_array_equal(rows["actions"], rows["obs"][:, 0].astype(int) % 2)
        np.testing.assert_array_equal(rows["seen"], rows["obs"][:, 0] * 2)
        assert column(rows, "rewards") == [scale * 1, scale * 2, scale * 3, scale * 1]
        assert column(rows, "terminateds") == [False, False, True, False]
        assert not rows["truncateds"].any()
        assert column(rows, "t") == [0, 1, 2, 0]
        assert column(rows, "agent_index") == [index] * 4
        assert column(rows, "eps_id") == [_seeding.episode_seed(7, 0, 0, e).eps_id
                                          for e in (0, 0, 0, 1)]
    # One compute_actions call per policy and step.
    assert w.get_policy("pa").calls == [1] * 4 and w.get_policy("pb").calls == [1] * 4
    # Each agent's fragment has its own unroll id.
    assert len({*batch["pa"]["unroll_id"].tolist(), *batch["pb"]["unroll_id"].tolist()}) == 4
    assert w.env.actions[0] == {"a": first % 2, "b": first % 2}


def test_episode_metrics_carry_agent_rewards():
    w = worker(num_envs=2, steps=7)
    w.sample()
    metrics = w.get_metrics()
    # Each env finishes 2 episodes of 3 steps in 7: returns a = 1+2+3, b = 10+20+30.
    assert [(m.episode_length, m.episode_reward) for m in metrics] == [(3, 66.0)] * 4
    assert metrics[0].agent_rewards == {("a", "pa"): 6.0, ("b", "pb"): 60.0}
    assert w.get_metrics() == []
    summary = summarize_episodes(metrics)
    assert summary["policy_reward_mean"] == {"pa": 6.0, "pb": 60.0}
    assert summary["hist_stats"]["policy_pb_reward"] == [60.0] * 4


def test_consecutive_samples_continue_each_agents_episode():
    w = worker(env_config={"length": 5}, steps=3)
    first, second = w.sample(), w.sample()
    for pid in ("pa", "pb"):
        assert column(first[pid], "t") == [0, 1, 2] and column(second[pid], "t") == [3, 4, 0]
        assert not first[pid]["terminateds"].any()
        np.testing.assert_array_equal(second[pid]["obs"][0], first[pid]["new_obs"][-1])
        assert second[pid]["eps_id"][0] == first[pid]["eps_id"][0]


def test_an_agent_that_terminates_alone_closes_its_last_row():
    w = worker(env_config={"length": 4, "b_length": 2}, steps=4)
    batch = w.sample()
    assert column(batch["pb"], "terminateds") == [False, True]
    assert column(batch["pb"], "rewards") == [10.0, 20.0]
    assert column(batch["pa"], "terminateds") == [False, False, False, True]
    assert column(batch["pa"], "rewards") == [1.0, 2.0, 3.0, 4.0]
    # After b is done only a acts.
    assert [sorted(actions) for actions in w.env.actions] == [["a", "b"]] * 2 + [["a"]] * 2
    assert w.get_metrics()[0].agent_rewards == {("a", "pa"): 10.0, ("b", "pb"): 30.0}


def test_batch_mode_complete_episodes():
    w = worker(num_envs=2, steps=2, batch_mode="complete_episodes")
    batch = w.sample()
    # 4 env steps are due; each env stops at the end of its first 3-step episode.
    assert batch.env_steps() == 6
    assert column(batch["pa"], "t") == [0, 1, 2] * 2
    assert column(batch["pa"], "terminateds") == [False, False, True] * 2


def test_complete_episodes_stop_every_env_that_ends_on_the_step_reaching_the_target():
    w = worker(num_envs=3, steps=3, batch_mode="complete_episodes")
    batch = w.sample()
    # 9 env steps are due; all three 3-step episodes end on the step that brings them in.
    assert batch.env_steps() == 9
    assert column(batch["pa"], "t") == [0, 1, 2] * 3


def test_count_steps_by_agent_steps():
    w = worker(steps=4, multiagent={"count_steps_by": "agent_steps"})
    batch = w.sample()
    # Two agents act per env step: 4 agent steps take 2 env steps.
    assert batch.env_steps() == 2 and batch.agent_steps() == 4
    turns = worker(env=TakeTurns, mapping=lambda agent_id: "p" + {"x": "a", "y": "b"}[agent_id],
                   steps=4, multiagent={"count_steps_by": "agent_steps"},
                   env_config={"length": 9})
    assert turns.sample().env_steps() == 4
    with pytest.raises(ValueError, match="config key 'multiagent.count_steps_by': expected one "
                                         "of \\['env_steps', 'agent_steps'\\], got 'steps'"):
        worker(multiagent={"count_steps_by": "steps"})


# ---- routing -------------------------------------------------------------------------------


def test_each_agents_rows_go_to_its_policy_across_envs():
    # Agent "a" of env 0 and agent "b" of env 1 act with "pa", the others with "pb".
    def mapping(agent_id, episode, worker, **kwargs):
        return "pa" if (agent_id == "a") == (episode.env_id == 0) else "pb"

    w = worker(mapping=mapping, num_envs=2, steps=5)
    batch = w.sample()
    for pid, wanted in (("pa", {(0, 0), (1, 1)}), ("pb", {(0, 1), (1, 0)})):
        rows = batch[pid]
        assert len(rows) == 10
        env_of_row = np.isin(rows["eps_id"], [_seeding.episode_seed(7, 0, 1, e).eps_id
                                              for e in range(2)]).astype(int)
        assert set(zip(env_of_row.tolist(), rows["agent_index"].tolist())) == wanted
        # The observation's second entry is the agent's index: every row is its agent's.
        np.testing.assert_array_equal(rows["obs"][:, 1], rows["agent_index"])
    # Both agents of both envs mapped to one policy act in one call per step.
    shared = worker(mapping=lambda agent_id: "pa", num_envs=2, steps=3)
    shared.sample()
    assert shared.get_policy("pa").calls == [4] * 3 and shared.get_policy("pb").calls == []


def test_the_mapping_fn_is_asked_once_per_agent_and_episode():
    asked = []

    def mapping(agent_id, episode, worker, **kwargs):
        asked.append((agent_id, episode, worker))
        return "pa" if episode.episode_id % 2 else "pb"

    w = worker(mapping=mapping, steps=1, env_config={"length": 4})
    # The first episode's agents (after the probe that inferred the spaces).
    assert [(agent, episode.episode_id) for agent, episode, _ in asked[-2:]] == [
        ("a", _seeding.episode_seed(7, 0, 0, 0).eps_id),
        ("b", _seeding.episode_seed(7, 0, 0, 0).eps_id)]
    assert all(isinstance(episode, Episode) and found is w for _, episode, found in asked[-2:])
    del asked[:]
    w.sample(), w.sample(), w.sample()
    assert asked == []  # kept for the running episode
    w.sample()  # the episode ends after 4 steps and the next starts
    assert [(agent, episode.episode_id) for agent, episode, _ in asked] == [
        ("a", _seeding.episode_seed(7, 0, 0, 1).eps_id),
        ("b", _seeding.episode_seed(7, 0, 0, 1).eps_id)]
    assert w.env.seeds[-1] == _seeding.episode_seed(7, 0, 0, 1).seed


def test_old_style_one_and_two_argument_mapping_fns():
    assert worker(mapping=lambda agent_id: "p" + agent_id).sample()["pb"].count == 4
    two = worker(mapping=lambda agent_id, episode, **kw: "p" + agent_id)
    assert set(two.sample().policy_batches) == {"pa", "pb"}


# ---- postprocessing ------------------------------------------------------------------------


def test_postprocess_sees_the_other_agents_raw_batches():
    w = worker(steps=4)
    w.sample()
    pa, pb = w.get_policy("pa"), w.get_policy("pb")
    # One call per agent and episode fragment: the finished episode and the running one.
    assert [len(b) for b, _, _ in pa.postprocessed] == [3, 1]
    for own_policy, other_policy, other_id, other_pid in ((pa, pb, "b", "pb"),
                                                          (pb, pa, "a", "pa")):
        for (own, others, episode), (other_own, _, _) in zip(own_policy.postprocessed,
                                                             other_policy.postprocessed):
            assert list(others) == [other_id]
            pid, policy, batch = others[other_id]
            assert pid == other_pid and policy is other_policy
            for key in batch:
                np.testing.assert_array_equal(batch[key], other_own[key])
            assert episode.episode_id == own["eps_id"][0]


def test_postprocessing_changes_the_batch_but_not_the_others_view_or_metrics():
    def postprocess(policy, batch, other_agent_batches=None, episode=None):
        seen.append({k: v[2]["rewards"].copy() for k, v in (other_agent_batches or {}).items()})
        batch["rewards"] = batch["rewards"] * 100
        return batch

    seen = []
    Scaling = build_tf_policy("Scaling", loss_fn=lambda *a: tf.constant(0.0),
                              postprocess_fn=postprocess)
    w = worker(policy=Scaling, steps=3, model={"fcnet_hiddens": [4]})
    batch = w.sample()
    assert column(batch["pa"], "rewards") == [100, 200, 300]
    assert column(batch["pb"], "rewards") == [1000, 2000, 3000]
    np.testing.assert_array_equal(seen[0]["b"], [10, 20, 30])
    np.testing.assert_array_equal(seen[1]["a"], [1, 2, 3])
    assert w.get_metrics()[0].episode_reward == 66.0


def test_a_tf_gae_policy_samples_a_multi_agent_cartpole():
    GAE = build_tf_policy(
        "GAE", loss_fn=lambda *a: tf.constant(0.0), postprocess_fn=compute_gae_for_sample_batch,
        mixins=[ValueNetworkMixin],
        before_loss_init=lambda policy, obs, act, config: ValueNetworkMixin.__init__(policy,
                                                                                     config))
    w = RolloutWorker(make_multi_agent("CartPole-v1"), GAE, {
        "seed": 0, "rollout_fragment_length": 6, "num_envs_per_worker": 2,
        "env_config": {"num_agents": 2}, "model": {"fcnet_hiddens": [8]}, "gamma": 0.9,
        "lambda": 1.0, "use_gae": True, "use_critic": True})
    batch = w.sample()
    rows = batch["default_policy"]
    assert batch.env_steps() == 12 and len(rows) == 24
    assert {"advantages", "value_targets", "action_logp", "vf_preds"} <= set(rows)
    # Agent 0's rows of env 0 come first, in time order.
    np.testing.assert_array_equal(rows["t"][:6], np.arange(6))
    np.testing.assert_array_equal(rows["agent_index"][:6], 0)
    np.testing.assert_array_equal(rows["agent_index"][6:12], 1)


def test_a_recurrent_tf_policy_chains_state_and_previous_actions_per_agent():
    Plain = build_tf_policy("Plain", loss_fn=lambda *a: tf.constant(0.0))
    w = RolloutWorker(make_multi_agent("CartPole-v1"), Plain, {
        "seed": 0, "rollout_fragment_length": 5, "env_config": {"num_agents": 2},
        "model": {"use_lstm": True, "lstm_cell_size": 4, "fcnet_hiddens": [8],
                  "lstm_use_prev_action": True, "lstm_use_prev_reward": True}})
    first, second = w.sample()["default_policy"], w.sample()["default_policy"]
    for rows in (first, second):
        assert {"state_in_0", "state_out_1", "prev_actions", "prev_rewards"} <= set(rows)
        same = (rows["agent_index"][1:] == rows["agent_index"][:-1]) & (rows["t"][1:] > 0)
        for key, source in (("state_in_0", "state_out_0"), ("prev_actions", "actions"),
                            ("prev_rewards", "rewards")):
            np.testing.assert_array_equal(rows[key][1:][same], rows[source][:-1][same])
    np.testing.assert_array_equal(first["state_in_0"][0], 0)
    np.testing.assert_array_equal(second["state_in_0"][0], first["state_out_0"][4])
    assert second["prev_actions"][0] == first["actions"][4]


# ---- turn-based envs -----------------------------------------------------------------------


def turns_worker(**env_config):
    return worker(env=TakeTurns, mapping=lambda agent_id: {"x": "pa", "y": "pb"}[agent_id],
                  steps=5, env_config=dict({"length": 5}, **env_config))


def test_turn_based_rows_span_observation_to_observation_with_rewards_summed():
    w = turns_worker()
    batch = w.sample()
    x, y = batch["pa"], batch["pb"]
    # x moves at env steps 1, 3, 5 and y at 2, 4; the waiting agent gets 100 per move.
    assert column(x, "obs") == [[0], [2], [4]] and column(x, "new_obs") == [[2], [4], [5]]
    assert column(x, "rewards") == [1 + 100, 1 + 100, 1]
    assert column(x, "terminateds") == [False, False, True]
    assert column(y, "obs") == [[1], [3]] and column(y, "new_obs") == [[3], [5]]
    assert column(y, "rewards") == [1 + 100, 1 + 100]
    assert column(y, "terminateds") == [False, True]
    assert column(x, "t") == [0, 1, 2] and column(y, "t") == [0, 1]
    # One call per step: only the agent to move acts.
    assert w.get_policy("pa").calls == [1] * 3 and w.get_policy("pb").calls == [1] * 2
    # Returns count every reward; y's first 100 came before it ever acted (in no row).
    metrics = w.get_metrics()[0]
    assert metrics.agent_rewards == {("x", "pa"): 203.0, ("y", "pb"): 302.0}
    assert (metrics.episode_length, metrics.episode_reward) == (5, 505.0)


def test_an_agent_without_a_last_observation_closes_on_its_own():
    batch = turns_worker(final_for_all=False).sample()
    assert column(batch["pa"], "new_obs") == [[2], [4], [4]]  # x's last: its own obs
    assert column(batch["pa"], "terminateds") == [False, False, True]
    assert column(batch["pb"], "new_obs") == [[3], [5]]


# ---- seeding and state ---------------------------------------------------------------------


def test_episodes_are_seeded_and_the_same_seed_gives_the_same_batches():
    a, b = worker(num_envs=2, steps=5), worker(num_envs=2, steps=5)
    first, second = a.sample(), b.sample()
    for pid in ("pa", "pb"):
        for key in first[pid]:
            np.testing.assert_array_equal(first[pid][key], second[pid][key])
    assert a.envs[1].seeds == [_seeding.episode_seed(7, 0, 1, e).seed for e in range(2)]
    other = worker(num_envs=2, steps=5, seed=8).sample()
    assert not np.array_equal(other["pa"]["obs"], first["pa"]["obs"])


def test_state_holds_policies_and_counters_and_restarts_episodes():
    original = worker(steps=2, env_config={"length": 5})
    original.sample()
    original.learn_on_batch(original.sample())
    state = original.get_state()
    assert state["multi_agent"] is True and state["envs"] == [{"episode": 0}]
    assert state["metrics"] == []
    restored = worker(steps=2, env_config={"length": 5})
    restored.set_state(state)
    np.testing.assert_array_equal(restored.get_weights()["pa"]["w"], [1])
    batch = restored.sample()
    # The running episode is not replayed: the next one starts.
    assert column(batch["pa"], "t") == [0, 1]
    assert batch["pa"]["eps_id"][0] == _seeding.episode_seed(7, 0, 0, 1).eps_id
    done = worker(steps=3)
    done.sample()
    assert done.get_state()["metrics"] == [[3, 66.0, [["a", "pa", 6.0], ["b", "pb", 60.0]]]]
    again = worker(steps=3)
    again.set_state(done.get_state())
    assert again.get_metrics()[0].agent_rewards == {("a", "pa"): 6.0, ("b", "pb"): 60.0}


def test_sample_episodes_plays_multi_agent_evaluation_episodes():
    w = worker(steps=2, evaluation_num_envs=2)
    w.sample()
    episodes = w.sample_episodes(3)
    assert [(m.episode_length, m.episode_reward) for m in episodes] == [(3, 66.0)] * 3
    assert episodes[0].agent_rewards == {("a", "pa"): 6.0, ("b", "pb"): 60.0}
    assert w.get_metrics() == []  # sampling's episodes are untouched


# ---- learning ------------------------------------------------------------------------------


def test_learn_on_batch_trains_only_the_policies_to_train():
    w = worker(multiagent={"policies_to_train": ["pa"]})
    assert w.learn_on_batch(w.sample()) == {"pa": {"rows": 4}}
    assert w.get_weights()["pa"]["w"].tolist() == [1] and w.get_weights()["pb"]["w"] == [0]
    assert w.is_policy_to_train("pa") and not w.is_policy_to_train("pb")
    assert w.foreach_policy_to_train(lambda policy, pid: pid) == ["pa"]
    by_fn = worker(multiagent={"policies_to_train": lambda pid, batch: pid == "pb"})
    assert list(by_fn.learn_on_batch(by_fn.sample())) == ["pb"]
    with pytest.raises(KeyError, match="unknown policy id 'pc'"):
        w.learn_on_batch(MultiAgentBatch({"pc": SampleBatch({"obs": np.zeros(1)})}, 1))


def test_gradients_of_a_multi_agent_batch_per_policy():
    w = worker(multiagent={"policies_to_train": ["pa", "pb"]})
    batch = w.sample()
    grads, infos = w.compute_gradients(batch)
    assert infos == {"pa": {"rows": 4}, "pb": {"rows": 4}}
    np.testing.assert_array_equal(grads["pb"][0], [4])
    w.apply_gradients(grads)
    assert w.get_weights()["pa"]["w"].tolist() == [4]
    w.apply_gradients({"pb": [np.ones(1, np.float32)]})
    assert w.get_weights()["pb"]["w"].tolist() == [5]


def test_recurrent_policies_carry_each_agents_state():
    class Count(Echo):
        """State: the number of steps the agent took; prev actions read by its model."""

        def get_initial_state(self):
            return [np.zeros(1, np.float32)]

        def compute_actions(self, obs_batch, state_batches=None, **kwargs):
            actions, _, extra = super().compute_actions(obs_batch)
            return actions, [state_batches[0] + 1], extra

    w = worker(policy=Count, env_config={"length": 3}, steps=4)
    batch = w.sample()
    for pid in ("pa", "pb"):
        assert column(batch[pid], "state_in_0") == [[0], [1], [2], [0]]
        assert column(batch[pid], "state_out_0") == [[1], [2], [3], [1]]

    class FreshEachEpisode(Count):
        """Like RLlib's AlwaysSameHeuristic: each episode's initial state is new."""

        starts = 0

        def get_initial_state(self):
            FreshEachEpisode.starts += 1
            return [np.full(1, 10 * FreshEachEpisode.starts, np.float32)]

    batch = worker(policy=FreshEachEpisode, mapping=lambda agent_id: "pa", steps=4).sample()
    starts = batch["pa"]["state_in_0"][batch["pa"]["t"] == 0, 0].tolist()
    assert len(starts) == 4 and len(set(starts)) == 4  # a, b of two episodes

    class Forgetful(Count):
        def compute_actions(self, obs_batch, state_batches=None, **kwargs):
            return super().compute_actions(obs_batch, state_batches)[0], [], {}

    with pytest.raises(ValueError, match="policy 'pa' returned 0 state outputs from "
                                         "compute_actions; its get_initial_state\\(\\) has 1"):
        worker(policy=Forgetful).sample()


def test_a_policy_map_of_capacity_one_swaps_policies_and_samples_the_same():
    small = worker(multiagent={"policy_map_capacity": 1}, num_envs=2)
    big = worker(num_envs=2)
    assert small.policy_map.capacity == 1
    first, second = small.sample(), big.sample()
    for pid in ("pa", "pb"):
        for key in first[pid]:
            np.testing.assert_array_equal(first[pid][key], second[pid][key])
    assert small.policy_map.stashed_ids() in (["pa"], ["pb"])
    small.learn_on_batch(first)
    assert small.get_weights()["pa"]["w"].tolist() == [1]
    assert small.get_weights()["pb"]["w"].tolist() == [1]
    small.policy_map.close()


# ---- specs, episodes and errors ------------------------------------------------------------


def test_policy_specs_take_classes_spaces_and_config_or_infer_them():
    class Other(Echo):
        pass

    w = worker(policies={
        "pa": PolicySpec(Other, config={"lr": 0.5, "model": {"x": 1}}),
        "pb": (None, gym.spaces.Box(-1, 1, (2,)), gym.spaces.Discrete(2), None)},
        lr=0.1, model={"x": 0, "y": 2})
    pa, pb = w.get_policy("pa"), w.get_policy("pb")
    assert type(pa) is Other and type(pb) is Echo
    assert pa.config["lr"] == 0.5 and pb.config["lr"] == 0.1
    assert pa.config["model"] == {"x": 1, "y": 2} and pa.config["worker_index"] == 0
    assert "multiagent" not in pa.config
    assert pa.observation_space == w.env.observation_space
    assert pb.observation_space == gym.spaces.Box(-1, 1, (2,))
    assert normalize_policy_specs(["p", "q"]) == {"p": PolicySpec(), "q": PolicySpec()}
    assert normalize_policy_specs({"p": Echo})["p"].policy_class is Echo


def test_spaces_are_inferred_from_the_first_agent_mapped_to_the_policy():
    class Different(TwoCounters):
        def __init__(self, config=None):
            super().__init__(config)
            self.observation_spaces = {"a": gym.spaces.Box(-np.inf, np.inf, (2,), np.float32),
                                       "b": gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)}

    w = worker(env=Different)
    assert w.get_policy("pb").observation_space.dtype == np.float64
    with pytest.raises(ValueError, match="policy 'pc' has no observation/action space and "
                                         "none can be inferred: the policy_mapping_fn maps "
                                         "none of the env's possible_agents \\['a', 'b'\\]"):
        worker(env=Different, policies={"pa": PolicySpec(), "pb": PolicySpec(),
                                        "pc": PolicySpec()})


def test_an_unknown_policy_id_from_the_mapping_fn_names_it():
    with pytest.raises(ValueError) as info:
        worker(mapping=lambda agent_id, episode, worker, **kw: "main").sample()
    assert str(info.value) == (
        "policy_mapping_fn returned the policy id 'main' for agent 'a'; expected one of the "
        "worker's policy ids ['pa', 'pb'] (config key 'multiagent.policies')")
    with pytest.raises(ValueError, match="no policy_mapping_fn is set, so agent 'a' acts with "
                                         "'default_policy', which is not one of the worker's "
                                         "policy ids \\['pa', 'pb'\\]"):
        worker(mapping=None, policies={"pa": PolicySpec(None, *[gym.spaces.Discrete(2)] * 2),
                                       "pb": PolicySpec(None, *[gym.spaces.Discrete(2)] * 2)})


def test_bad_agent_ids_from_the_env_are_named():
    class NumpyIds(TwoCounters):
        def __init__(self, config=None):
            super().__init__(config)
            self.possible_agents = []

        def reset(self, *, seed=None, options=None):
            return {np.int64(0): np.zeros(2, np.float32)}, {}

    with pytest.raises(TypeError, match=r"agent id np.int64\(0\) has type numpy.int64; "
                                        r"expected a str or an int \(not bool, not a numpy "
                                        r"scalar\) \(env NumpyIds\)"):
        RolloutWorker(NumpyIds, Echo, {"seed": 0})

    class Stranger(TwoCounters):
        def step(self, action_dict):
            obs, *rest = super().step(action_dict)
            return ({"c": obs["a"]}, *rest)

    with pytest.raises(ValueError, match="agent id 'c' from env Stranger is not one of its "
                                         "possible_agents \\['a', 'b'\\]"):
        worker(env=Stranger).sample()

    class NoAll(TwoCounters):
        def step(self, action_dict):
            obs, rewards, terminateds, truncateds, infos = super().step(action_dict)
            del terminateds["__all__"]
            return obs, rewards, terminateds, truncateds, infos

    with pytest.raises(ValueError, match="NoAll.step\\(\\) returned terminateds without the "
                                         "key '__all__'"):
        worker(env=NoAll).sample()


def test_an_observation_after_an_agent_is_done_is_an_error():
    class Zombie(TwoCounters):
        def step(self, action_dict):
            obs, rewards, terminateds, truncateds, infos = super().step(action_dict)
            terminateds["b"] = self.t == 1
            return self._obs(["a", "b"]), rewards, terminateds, truncateds, infos

    with pytest.raises(ValueError, match="sent an observation for agent 'b' after it "
                                         "terminated or truncated"):
        worker(env=Zombie).sample()


def test_config_errors_of_the_multiagent_section():
    with pytest.raises(ValueError, match="config key 'multiagent.policy_graphs' is deprecated; "
                                         "use 'multiagent.policies'"):
        worker(multiagent={"policy_graphs": {}})
    with pytest.raises(ValueError, match="config key 'multiagent.policies_to_train': unknown "
                                         "policy ids \\['pc'\\]"):
        worker(multiagent={"policies_to_train": ["pa", "pc"]})
    with pytest.raises(TypeError, match="'multiagent.policy_mapping_fn': expected "
                                        "fn\\(agent_id, episode, worker, \\*\\*kwargs\\)"):
        worker(mapping="pa")
    with pytest.raises(ValueError, match="policy 'pa' has no class: give the worker a "
                                         "default_policy_class"):
        worker(policy=None)
    with pytest.raises(TypeError, match="policy 'pa' has the spec \\(1, 2\\)"):
        worker(policies={"pa": (1, 2)})
