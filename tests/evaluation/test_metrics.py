"""Tests for tfpolicy.evaluation.metrics: RLlib's episode summary, hand-computed."""

import math

from tfpolicy.evaluation import RolloutMetrics, collect_episodes, summarize_episodes


def test_summary_of_hand_computed_episodes():
    episodes = [RolloutMetrics(10, 10.0), RolloutMetrics(20, 30.0), RolloutMetrics(30, -4.0)]
    summary = summarize_episodes(episodes)
    assert summary["episode_reward_mean"] == 12.0
    assert summary["episode_reward_min"] == -4.0
    assert summary["episode_reward_max"] == 30.0
    assert summary["episode_len_mean"] == 20.0
    assert summary["episodes_this_iter"] == 3
    assert summary["hist_stats"] == {"episode_reward": [10.0, 30.0, -4.0],
                                     "episode_lengths": [10, 20, 30]}
    assert summary["num_faulty_episodes"] == 0
    assert all(isinstance(summary[k], float) for k in (
        "episode_reward_mean", "episode_reward_min", "episode_reward_max", "episode_len_mean"))


def test_no_episodes_give_nan_means():
    summary = summarize_episodes([])
    for key in ("episode_reward_mean", "episode_reward_min", "episode_reward_max",
                "episode_len_mean"):
        assert math.isnan(summary[key])
    assert summary["episodes_this_iter"] == 0
    assert summary["hist_stats"] == {"episode_reward": [], "episode_lengths": []}


def test_statistics_over_a_window_count_only_the_new_episodes():
    window = [RolloutMetrics(1, 1.0), RolloutMetrics(1, 3.0)]
    summary = summarize_episodes(window, new_episodes=window[1:])
    assert summary["episode_reward_mean"] == 2.0 and summary["episodes_this_iter"] == 1


def test_faulty_episodes_are_counted_and_left_out():
    summary = summarize_episodes([RolloutMetrics(5, 5.0),
                                  RolloutMetrics(2, 100.0, episode_faulty=True)])
    assert summary["episode_reward_max"] == 5.0 and summary["num_faulty_episodes"] == 1


def test_custom_metrics_policy_rewards_and_hist_data():
    episodes = [RolloutMetrics(1, 1.0,
                               agent_rewards={("a", "p1"): 2.0, ("b", "default_policy"): 1.0},
                               custom_metrics={"x": 1.0}, hist_data={"h": [1, 2]}),
                RolloutMetrics(1, 1.0, agent_rewards={("a", "p1"): 4.0},
                               custom_metrics={"x": 3.0}, hist_data={"h": [3]})]
    summary = summarize_episodes(episodes)
    assert summary["custom_metrics"] == {"x_mean": 2.0, "x_min": 1.0, "x_max": 3.0}
    assert summary["policy_reward_mean"] == {"p1": 3.0}
    assert summary["policy_reward_min"] == {"p1": 2.0}
    assert summary["hist_stats"]["h"] == [1, 2, 3]
    kept = summarize_episodes(episodes, keep_custom_metrics=True)
    assert kept["custom_metrics"] == {"x": [1.0, 3.0]}


def test_rollout_metrics_repr_shows_what_is_set():
    assert repr(RolloutMetrics(3, 6.0)) == "RolloutMetrics(episode_length=3, episode_reward=6.0)"
    assert repr(RolloutMetrics(1, 1.0, episode_faulty=True)).endswith(", episode_faulty=True)")


def test_collect_episodes_asks_every_worker():
    class Worker:
        def __init__(self, metrics):
            self.metrics = metrics

        def get_metrics(self):
            return self.metrics

    class Workers:
        def foreach_worker(self, fn):
            return [fn(Worker([RolloutMetrics(1, 1.0)])), fn(Worker([RolloutMetrics(2, 2.0)]))]

    assert collect_episodes(Workers()) == [RolloutMetrics(1, 1.0), RolloutMetrics(2, 2.0)]
