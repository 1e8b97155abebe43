"""Tests for tfpolicy.evaluation.pettingzoo_env: the AEC and Parallel adapters on tiny
hand-computed PettingZoo envs, through a RolloutWorker, and on mpe2's simple_spread."""

import gymnasium as gym
import numpy as np
import pytest

pettingzoo = pytest.importorskip("pettingzoo")

from pettingzoo.utils import AgentSelector, parallel_to_aec  # noqa: E402

from tfpolicy.evaluation import (ParallelPettingZooEnv, PettingZooEnv, PolicySpec,  # noqa: E402
                                 RolloutWorker, as_worker_env)
from tfpolicy.learning import Policy  # noqa: E402

BOX = gym.spaces.Box(0, 100, (1,), np.float32)


class Race(pettingzoo.ParallelEnv):
    """Agents "p0" and "p1" see `[step]`; reward `action + 10 * index`; p1 terminates after
    `p1_steps`, p0 is truncated after `max_cycles` steps."""

    metadata = {"name": "race_v0"}
    render_mode = None

    def __init__(self, max_cycles=4, p1_steps=2):
        self.possible_agents = ["p0", "p1"]
        self.max_cycles, self.p1_steps = max_cycles, p1_steps
        self.seeds = []

    def observation_space(self, agent):
        return BOX

    def action_space(self, agent):
        return gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        self.seeds.append(seed)
        self.agents = list(self.possible_agents)
        self.k = 0
        return {a: np.array([0], np.float32) for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self.k += 1
        obs = {a: np.array([self.k], np.float32) for a in actions}
        rewards = {a: float(actions[a]) + 10 * self.possible_agents.index(a) for a in actions}
        terminations = {a: a == "p1" and self.k == self.p1_steps for a in actions}
        truncations = {a: self.k == self.max_cycles for a in actions}
        self.agents = [a for a in self.agents if not (terminations.get(a) or
                                                      truncations.get(a))]
        return obs, rewards, terminations, truncations, {a: {} for a in actions}


class CountToFour(pettingzoo.AECEnv):
    """Players "p0" and "p1" take turns adding `action + 1` to a counter they both see; the
    one who brings it to `target` or beyond wins (+1, the other -1)."""

    metadata = {"name": "count_to_four_v0"}

    def __init__(self, target=4):
        super().__init__()
        self.possible_agents = ["p0", "p1"]
        self.target = target

    def observation_space(self, agent):
        return BOX

    def action_space(self, agent):
        return gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.counter = 0
        self.rewards = {a: 0.0 for a in self.agents}
        self._cumulative_rewards = {a: 0.0 for a in self.agents}
        self.terminations = {a: False for a in self.agents}
        self.truncations = {a: False for a in self.agents}
        self.infos = {a: {} for a in self.agents}
        self._selector = AgentSelector(self.agents)
        self.agent_selection = self._selector.reset()

    def observe(self, agent):
        return np.array([self.counter], np.float32)

    def step(self, action):
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[agent] = 0
        self._clear_rewards()
        self.counter += int(action) + 1
        if self.counter >= self.target:
            for a in self.agents:
                self.rewards[a] = 1.0 if a == agent else -1.0
                self.terminations[a] = True
        self.agent_selection = self._selector.next()
        self._accumulate_rewards()


class Parity(Policy):
    """Action `obs[0] % 2`."""

    def compute_actions(self, obs_batch, state_batches=None, **kwargs):
        return np.asarray(obs_batch)[:, 0].astype(np.int64) % 2, [], {}

    def learn_on_batch(self, samples):
        return {}

    def get_weights(self):
        return {}

    def set_weights(self, weights):
        pass


def column(batch, key):
    return batch[key].tolist()


def test_the_aec_adapter_returns_the_next_agent_only_with_its_cumulative_reward():
    env = PettingZooEnv(CountToFour())
    assert env.possible_agents == ["p0", "p1"] and env.observation_space == BOX
    assert env.get_action_space("p1") == gym.spaces.Discrete(2)
    obs, _ = env.reset(seed=3)
    assert list(obs) == ["p0"]
    with pytest.raises(ValueError, match="got an action for agent 'p1', which did not get an "
                                         "observation; expected actions only for \\['p0'\\]"):
        env.step({"p1": 0})
    obs, rewards, terminateds, truncateds, _ = env.step({"p0": 0})  # counter 1
    assert list(obs) == ["p1"] and rewards == {"p1": 0.0}
    assert terminateds == {"p1": False, "__all__": False}
    env.step({"p1": 1})  # counter 3
    obs, rewards, terminateds, truncateds, _ = env.step({"p0": 1})  # counter 5: p0 wins
    # The game is over: each agent's last observation and reward, in PettingZoo's order.
    assert list(obs) == ["p1", "p0"] and rewards == {"p1": -1.0, "p0": 1.0}
    assert terminateds == {"p1": True, "p0": True, "__all__": True}
    assert truncateds["__all__"] is False
    np.testing.assert_array_equal(obs["p0"], [5])


def test_an_aec_game_samples_hand_computed_rows():
    worker = RolloutWorker(lambda config: CountToFour(), Parity, {
        "seed": 0, "rollout_fragment_length": 3,
        "multiagent": {"policies": {"first": PolicySpec(), "second": PolicySpec()},
                       "policy_mapping_fn": lambda agent_id: {"p0": "first",
                                                              "p1": "second"}[agent_id]}})
    batch = worker.sample()
    assert isinstance(worker.env, PettingZooEnv)
    p0, p1 = batch["first"], batch["second"]
    # p0 plays at counters 0 and 3 (actions 0, 1: +1, +2); p1 at 1 (action 1: +2).
    assert column(p0, "obs") == [[0], [3]] and column(p0, "new_obs") == [[3], [5]]
    assert column(p0, "actions") == [0, 1] and column(p0, "rewards") == [0.0, 1.0]
    assert column(p0, "terminateds") == [False, True]
    assert column(p1, "obs") == [[1]] and column(p1, "new_obs") == [[5]]
    assert column(p1, "rewards") == [-1.0] and column(p1, "terminateds") == [True]
    assert column(p1, "agent_index") == [1]
    assert batch.env_steps() == 3
    metrics = worker.get_metrics()[0]
    assert metrics.agent_rewards == {("p0", "first"): 1.0, ("p1", "second"): -1.0}
    assert metrics.episode_length == 3


def test_the_parallel_adapter_ends_agents_one_by_one():
    env = ParallelPettingZooEnv(Race())
    env.reset(seed=1)
    assert env.env.seeds == [1]
    _, rewards, terminateds, truncateds, _ = env.step({"p0": 1, "p1": 0})
    assert rewards == {"p0": 1.0, "p1": 10.0} and terminateds["__all__"] is False
    _, _, terminateds, _, _ = env.step({"p0": 0, "p1": 0})
    assert terminateds == {"p0": False, "p1": True, "__all__": False}
    with pytest.raises(ValueError, match="got an action for agent 'p1', which did not get an "
                                         "observation"):
        env.step({"p0": 0, "p1": 0})
    env.step({"p0": 0})
    _, _, terminateds, truncateds, _ = env.step({"p0": 0})
    assert truncateds == {"p0": True, "__all__": True} and terminateds["__all__"] is False


def test_a_parallel_env_samples_hand_computed_rows_with_shared_parameters():
    worker = RolloutWorker(lambda config: Race(), Parity, {"seed": 0,
                                                          "rollout_fragment_length": 4})
    batch = worker.sample()
    rows = batch["default_policy"]
    # p0's 4 rows, then p1's 2 (it terminated after step 2).
    assert column(rows, "agent_index") == [0, 0, 0, 0, 1, 1]
    assert column(rows, "obs") == [[0], [1], [2], [3], [0], [1]]
    assert column(rows, "actions") == [0, 1, 0, 1, 0, 1]
    assert column(rows, "rewards") == [0, 1, 0, 1, 10, 11]
    assert column(rows, "terminateds") == [False] * 5 + [True]
    assert column(rows, "truncateds") == [False, False, False, True, False, False]
    assert worker.get_metrics()[0].agent_rewards == {("p0", "default_policy"): 2.0,
                                                     ("p1", "default_policy"): 21.0}
    assert worker.env.env.seeds[0] is not None  # seeded per episode


def test_parallel_to_aec_through_the_aec_adapter():
    env = as_worker_env(parallel_to_aec(Race(max_cycles=2, p1_steps=5)), "test")
    assert isinstance(env, PettingZooEnv)
    worker = RolloutWorker(lambda config: env, Parity, {"seed": 0, "rollout_fragment_length": 4})
    rows = worker.sample()["default_policy"]
    # A cycle is two env steps (p0 then p1); each agent's reward comes at its next turn.
    assert column(rows, "agent_index") == [0, 0, 1, 1]
    assert column(rows, "rewards") == [0, 1, 10, 11]
    assert column(rows, "truncateds") == [False, True, False, True]


def test_mpe2_simple_spread_in_both_apis():
    simple_spread_v3 = pytest.importorskip("mpe2.simple_spread_v3")
    parallel = RolloutWorker(
        lambda config: simple_spread_v3.parallel_env(N=2, max_cycles=5), Parity,
        {"seed": 0, "rollout_fragment_length": 10})
    batch = parallel.sample()
    rows = batch["default_policy"]
    assert batch.env_steps() == 10 and len(rows) == 20 and rows["obs"].shape == (20, 12)
    # Episode by episode, agent by agent: each agent's 5 rows are contiguous.
    assert column(rows, "agent_index") == ([0] * 5 + [1] * 5) * 2
    assert column(rows, "t") == [0, 1, 2, 3, 4] * 4
    assert column(rows, "truncateds") == ([False] * 4 + [True]) * 4
    metrics = parallel.get_metrics()
    assert len(metrics) == 2
    np.testing.assert_allclose(sum(m.agent_rewards[("agent_0", "default_policy")]
                                   for m in metrics),
                               rows["rewards"][rows["agent_index"] == 0].sum(), rtol=1e-5)
    turns = RolloutWorker(lambda config: simple_spread_v3.env(N=2, max_cycles=5), Parity,
                          {"seed": 0, "rollout_fragment_length": 10})
    rows = turns.sample()["default_policy"]
    # Turn by turn: 10 env steps, 5 moves per agent, the last truncated.
    assert column(rows, "agent_index") == [0] * 5 + [1] * 5
    assert column(rows, "truncateds") == ([False] * 4 + [True]) * 2
    episode = turns.get_metrics()[0]
    assert episode.episode_length == 10
    np.testing.assert_allclose(episode.agent_rewards[("agent_1", "default_policy")],
                               rows["rewards"][5:].sum(), rtol=1e-5)
