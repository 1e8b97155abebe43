"""Tests for tfpolicy.examples.rock_paper_scissors: the env's rounds, rewards and
observations by hand, each heuristic's moves by hand, and a heuristic match."""

import gymnasium as gym
import numpy as np
import pytest

from tfpolicy.evaluation.multi_agent_env import check_reset_result, check_step_result
from tfpolicy.examples import AlwaysSameHeuristic, BeatLastHeuristic, RockPaperScissors
from tfpolicy.examples.rock_paper_scissors import PAPER, ROCK, SCISSORS, beats, round_rewards

P1, P2 = "player1", "player2"


def play(env, move1, move2):
    return check_step_result(env.step({P1: move1, P2: move2}), env)


# ---- the env ----------------------------------------------------------------------------------


def test_spaces_and_players():
    env = RockPaperScissors()
    assert env.possible_agents == [P1, P2]
    assert env.get_observation_space(P1) == gym.spaces.Discrete(3)
    assert env.get_action_space(P2) == gym.spaces.Discrete(3)
    assert (ROCK, PAPER, SCISSORS) == (env.ROCK, env.PAPER, env.SCISSORS) == (0, 1, 2)


def test_reset_shows_rock_to_both_players():
    env = RockPaperScissors()
    obs, infos = check_reset_result(env.reset(seed=3), env)
    assert (obs, infos, env.agents) == ({P1: ROCK, P2: ROCK}, {P1: {}, P2: {}}, [P1, P2])


@pytest.mark.parametrize("move1, move2, expected", [
    (ROCK, ROCK, (0.0, 0.0)), (ROCK, PAPER, (-1.0, 1.0)), (ROCK, SCISSORS, (1.0, -1.0)),
    (PAPER, ROCK, (1.0, -1.0)), (PAPER, PAPER, (0.0, 0.0)), (PAPER, SCISSORS, (-1.0, 1.0)),
    (SCISSORS, ROCK, (-1.0, 1.0)), (SCISSORS, PAPER, (1.0, -1.0)),
    (SCISSORS, SCISSORS, (0.0, 0.0)),
])
def test_each_round_pays_the_winner_and_shows_the_opponents_move(move1, move2, expected):
    assert round_rewards(move1, move2) == expected
    env = RockPaperScissors()
    env.reset()
    obs, rewards, terminateds, truncateds, infos = play(env, move1, move2)
    assert rewards == {P1: expected[0], P2: expected[1]}
    assert obs == {P1: move2, P2: move1}
    assert (terminateds[P1], terminateds["__all__"], truncateds["__all__"]) == (
        False, False, False)


def test_an_episode_by_hand():
    env = RockPaperScissors({"num_rounds": 3})
    env.reset()
    assert play(env, PAPER, ROCK)[:3] == (
        {P1: ROCK, P2: PAPER}, {P1: 1.0, P2: -1.0},
        {P1: False, P2: False, "__all__": False})
    assert play(env, SCISSORS, ROCK)[:2] == ({P1: ROCK, P2: SCISSORS}, {P1: -1.0, P2: 1.0})
    obs, rewards, terminateds, truncateds, _ = play(env, SCISSORS, SCISSORS)
    assert (obs, rewards) == ({P1: SCISSORS, P2: SCISSORS}, {P1: 0.0, P2: 0.0})
    assert terminateds == {P1: True, P2: True, "__all__": True}
    assert truncateds == {P1: False, P2: False, "__all__": False}
    assert env.agents == []
    # a new episode starts from rock again
    assert env.reset()[0] == {P1: ROCK, P2: ROCK} and env.rounds_played == 0


def test_episodes_last_ten_rounds_by_default():
    env = RockPaperScissors()
    env.reset()
    ends = [play(env, ROCK, PAPER)[2]["__all__"] for _ in range(10)]
    assert ends == [False] * 9 + [True]


def test_numpy_moves_are_accepted():
    env = RockPaperScissors()
    env.reset()
    assert play(env, np.int64(PAPER), np.array(ROCK))[1] == {P1: 1.0, P2: -1.0}


def test_step_after_the_last_round_raises():
    env = RockPaperScissors({"num_rounds": 1})
    with pytest.raises(RuntimeError, match="reset"):
        play(env, ROCK, ROCK)  # never reset
    env.reset()
    play(env, ROCK, ROCK)
    with pytest.raises(RuntimeError, match="over after 1 of 1 rounds.*reset"):
        play(env, ROCK, ROCK)


def test_bad_actions_name_the_player():
    env = RockPaperScissors()
    env.reset()
    with pytest.raises(ValueError, match=r"no action for \['player2'\]"):
        env.step({P1: ROCK})
    with pytest.raises(ValueError, match=r"action of 'player1'.*0 \(rock\).*got 3"):
        env.step({P1: 3, P2: ROCK})
    with pytest.raises(ValueError, match=r"action of 'player2'.*got 1\.0"):
        env.step({P1: ROCK, P2: 1.0})
    with pytest.raises(ValueError, match="player3"):
        env.step({P1: ROCK, P2: ROCK, "player3": ROCK})
    assert env.rounds_played == 0


@pytest.mark.parametrize("num_rounds", [0, -2, 2.5, True, "10"])
def test_num_rounds_must_be_a_positive_int(num_rounds):
    with pytest.raises(ValueError, match=r"'num_rounds' must be an int >= 1, got"):
        RockPaperScissors({"num_rounds": num_rounds})


# ---- the heuristics ---------------------------------------------------------------------------


def _spaces():
    env = RockPaperScissors()
    return env.observation_space, env.action_space


def test_beats_each_move():
    assert (beats(ROCK), beats(PAPER), beats(SCISSORS)) == (PAPER, SCISSORS, ROCK)


def test_beat_last_plays_what_beats_the_observed_move():
    policy = BeatLastHeuristic(*_spaces(), {})
    actions, state_out, extra = policy.compute_actions(np.array([ROCK, PAPER, SCISSORS]))
    assert (actions.tolist(), actions.dtype, state_out, extra) == (
        [PAPER, SCISSORS, ROCK], np.int64, [], {})
    one_hot = np.eye(3, dtype=np.float32)[[SCISSORS, ROCK]]
    assert policy.compute_actions(one_hot)[0].tolist() == [ROCK, PAPER]
    assert int(policy.compute_single_action(PAPER)[0]) == SCISSORS
    assert not policy.is_recurrent()


def test_beat_last_rejects_observations_that_are_not_moves():
    policy = BeatLastHeuristic(*_spaces(), {})
    with pytest.raises(ValueError, match=r"got dtype int64, shape \(2,\)"):
        policy.compute_actions(np.array([0, 3]))
    with pytest.raises(ValueError, match="dtype float64"):
        policy.compute_actions(np.array([0.5]))


def test_always_same_plays_its_episode_move_every_round():
    policy = AlwaysSameHeuristic(*_spaces(), {"seed": 0})
    assert policy.is_recurrent() and policy.num_state_tensors() == 1
    moves = set()
    for _ in range(30):  # 30 episodes: all three moves show up (chance 1 - 3 * (2/3)^30)
        state = policy.get_initial_state()
        assert state[0].shape == (1,) and state[0].dtype == np.int64
        episode_moves = []
        for obs in [ROCK, PAPER, SCISSORS, ROCK]:
            action, state, _ = policy.compute_single_action(obs, state)
            episode_moves.append(int(action))
        assert len(set(episode_moves)) == 1
        moves.add(episode_moves[0])
    assert moves == {ROCK, PAPER, SCISSORS}


def test_always_same_plays_the_move_in_its_state():
    policy = AlwaysSameHeuristic(*_spaces(), {})
    actions, state_out, extra = policy.compute_actions(
        np.array([ROCK, ROCK, PAPER]), [np.array([[SCISSORS], [PAPER], [PAPER]])])
    assert actions.tolist() == [SCISSORS, PAPER, PAPER]
    assert state_out[0].tolist() == [[SCISSORS], [PAPER], [PAPER]] and extra == {}


def test_always_same_is_reproducible_with_a_seed_and_restores_its_generator():
    first = AlwaysSameHeuristic(*_spaces(), {"seed": 7})
    second = AlwaysSameHeuristic(*_spaces(), {"seed": 7})
    draws = [int(first.get_initial_state()[0][0]) for _ in range(12)]
    assert draws == [int(second.get_initial_state()[0][0]) for _ in range(12)]
    state = first.get_state()
    later = [int(first.get_initial_state()[0][0]) for _ in range(12)]
    second.set_state(state)
    assert [int(second.get_initial_state()[0][0]) for _ in range(12)] == later


def test_heuristics_do_not_learn():
    for cls in (AlwaysSameHeuristic, BeatLastHeuristic):
        policy = cls(*_spaces(), {})
        assert (policy.learn_on_batch({}), policy.get_weights()) == ({}, {})
        policy.set_weights({})
        assert policy.get_state()["weights"] == {}


@pytest.mark.parametrize("move, first_round, total", [
    (ROCK, 1.0, 10.0), (PAPER, 0.0, 9.0), (SCISSORS, -1.0, 8.0)])
def test_beat_last_beats_always_same_from_the_second_round(move, first_round, total):
    # Round 1: beat-last sees rock (reset) and plays paper against `move`; rounds 2-10:
    # it plays beats(move) and wins, +1 each: total = first_round + 9.
    env = RockPaperScissors()
    always, beat_last = AlwaysSameHeuristic(*_spaces(), {}), BeatLastHeuristic(*_spaces(), {})
    obs, _ = env.reset()
    state = [np.array([move], np.int64)]
    returns, round_one, done = {P1: 0.0, P2: 0.0}, None, False
    while not done:
        move1, state, _ = always.compute_single_action(obs[P1], state)
        move2, _, _ = beat_last.compute_single_action(obs[P2])
        obs, rewards, terminateds, _, _ = env.step({P1: move1, P2: move2})
        round_one = rewards[P2] if round_one is None else round_one
        returns = {p: returns[p] + rewards[p] for p in returns}
        done = terminateds["__all__"]
    assert round_one == first_round
    assert returns == {P1: -total, P2: total}
