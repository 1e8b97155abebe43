"""Rock-paper-scissors: a two-player `MultiAgentEnv` and two heuristic opponents.

The setting of RLlib's multi-agent example: a learned policy plays against
fixed heuristics and should learn to beat them.

`RockPaperScissors`: players `"player1"` and `"player2"` move at the same
time, `num_rounds` rounds per episode (10 by default). Moves are
`Discrete(3)`: `ROCK = 0`, `PAPER = 1`, `SCISSORS = 2`; move `a` beats move
`b` when `(a - b) mod 3 == 1` (paper beats rock, scissors beat paper, rock
beats scissors). Each round pays `+1` to the winner, `-1` to the loser and
`0` to both on a draw. A player observes the opponent's move of the round
before (`Discrete(3)`); there is none at `reset`, which shows `ROCK` to both
players. After the last round `terminateds["__all__"]` is True.

The heuristics are `tfpolicy.learning.Policy` subclasses that do not learn
(`learn_on_batch` returns `{}`, they have no weights):

- `AlwaysSameHeuristic` draws one move at the start of each episode and
  plays it every round. The move is its recurrent state
  (`get_initial_state()`, drawn anew for each episode), which the worker
  carries from step to step as it does for any recurrent policy.
- `BeatLastHeuristic` plays the move that beats the opponent's last move
  (its observation). A learned policy beats it by playing what beats the
  move that would beat its own last move.

>>> env = RockPaperScissors({"num_rounds": 2})
>>> env.reset(seed=0)
({'player1': 0, 'player2': 0}, {'player1': {}, 'player2': {}})
>>> obs, rewards, terminateds, truncateds, infos = env.step({"player1": PAPER,
...                                                          "player2": ROCK})
>>> obs, rewards, terminateds["__all__"]
({'player1': 0, 'player2': 1}, {'player1': 1.0, 'player2': -1.0}, False)
>>> beat_last = BeatLastHeuristic(env.observation_space, env.action_space, {})
>>> beat_last.compute_actions([obs["player2"]])[0]  # PAPER was played: SCISSORS beats it
array([2])
>>> env.step({"player1": SCISSORS, "player2": SCISSORS})[2]
{'player1': True, 'player2': True, '__all__': True}
"""

from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from tfpolicy.evaluation.multi_agent_env import ALL, AgentID, MultiAgentEnv, check_action_dict
from tfpolicy.learning.policy import Policy

__all__ = ["ROCK", "PAPER", "SCISSORS", "MOVES", "RockPaperScissors", "AlwaysSameHeuristic",
           "BeatLastHeuristic", "beats", "round_rewards"]

ROCK, PAPER, SCISSORS = 0, 1, 2
# The moves by value, for messages.
MOVES = ("rock", "paper", "scissors")
_MOVES_TEXT = ", ".join(f"{i} ({name})" for i, name in enumerate(MOVES))


def beats(move: Any) -> Any:
    """The move that beats `move` (an int or an int array): `(move + 1) mod 3`.

    >>> beats(ROCK) == PAPER, beats(SCISSORS) == ROCK
    (True, True)
    """
    return (move + 1) % 3


def round_rewards(move1: int, move2: int) -> Tuple[float, float]:
    """The rewards of one round for the players of `move1` and `move2`.

    >>> round_rewards(ROCK, SCISSORS), round_rewards(ROCK, PAPER), round_rewards(ROCK, ROCK)
    ((1.0, -1.0), (-1.0, 1.0), (0.0, 0.0))
    """
    outcome = (move1 - move2) % 3  # 1: move1 wins, 2: move2 wins, 0: a draw
    return {0: (0.0, 0.0), 1: (1.0, -1.0), 2: (-1.0, 1.0)}[outcome]


def _move(value: Any, what: str) -> int:
    """`value` as a move, or a ValueError naming `what`, the moves and the value."""
    array = np.asarray(value)
    if array.shape != () or array.dtype.kind not in "iu" or not 0 <= int(array) <= 2:
        raise ValueError(f"{what} must be one of the moves {_MOVES_TEXT}, got {value!r}")
    return int(array)


class RockPaperScissors(MultiAgentEnv):
    """Two players, simultaneous moves, `num_rounds` rounds (see the module docstring).

    Args:
      config: the env config; `num_rounds` (default 10) is the episode's length.

    Raises:
      ValueError: `num_rounds` is not an int >= 1.
    """

    ROCK, PAPER, SCISSORS = ROCK, PAPER, SCISSORS
    PLAYERS = ("player1", "player2")

    def __init__(self, config: Optional[Mapping[str, Any]] = None):
        import gymnasium  # here, not at the top: gymnasium is imported lazily

        config = dict(config or {})
        num_rounds = config.get("num_rounds", 10)
        if isinstance(num_rounds, bool) or not isinstance(num_rounds, int) or num_rounds < 1:
            raise ValueError(f"RockPaperScissors: config key 'num_rounds' must be an int >= 1, "
                             f"got {num_rounds!r}")
        self.num_rounds = num_rounds
        self.observation_space = gymnasium.spaces.Discrete(3)
        self.action_space = gymnasium.spaces.Discrete(3)
        self.possible_agents: List[AgentID] = list(self.PLAYERS)
        self.agents: List[AgentID] = []
        self.rounds_played = 0
        self.last_moves: Tuple[int, int] = (ROCK, ROCK)

    def _observations(self) -> Dict[AgentID, int]:
        player1, player2 = self.PLAYERS
        return {player1: self.last_moves[1], player2: self.last_moves[0]}

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None
              ) -> Tuple[Dict[AgentID, Any], Dict[AgentID, Any]]:
        """Starts an episode; both players observe `ROCK`. The game has no randomness,
        so `seed` changes nothing."""
        del seed, options
        self.rounds_played = 0
        self.last_moves = (ROCK, ROCK)
        self.agents = list(self.PLAYERS)
        return self._observations(), {player: {} for player in self.PLAYERS}

    def step(self, action_dict: Mapping[AgentID, Any]) -> Tuple[Dict[Any, Any], ...]:
        """Plays one round.

        Args:
          action_dict: `{"player1": move, "player2": move}`.

        Returns:
          `(obs, rewards, terminateds, truncateds, infos)`: each player observes
          the opponent's move; `terminateds` is True for everyone after the last round.

        Raises:
          RuntimeError: the episode is over (or never started): call `reset()`.
          ValueError: a move is missing or is not one of 0, 1, 2 (the player is
            named), or an action names another agent.
        """
        if not self.agents:
            raise RuntimeError(f"RockPaperScissors.step: the episode is over after "
                               f"{self.rounds_played} of {self.num_rounds} rounds (or has "
                               "not started); call reset() first")
        check_action_dict(action_dict, self.agents, self)
        missing = [player for player in self.PLAYERS if player not in action_dict]
        if missing:
            raise ValueError(f"RockPaperScissors.step: both players move every round; no "
                             f"action for {missing}, got actions for {list(action_dict)}")
        moves = tuple(_move(action_dict[player], f"the action of {player!r}")
                      for player in self.PLAYERS)
        self.last_moves = moves  # type: ignore[assignment]
        self.rounds_played += 1
        over = self.rounds_played >= self.num_rounds
        if over:
            self.agents = []
        rewards = dict(zip(self.PLAYERS, round_rewards(*moves)))
        terminateds = {player: over for player in self.PLAYERS}
        terminateds[ALL] = over
        truncateds = {player: False for player in self.PLAYERS}
        truncateds[ALL] = False
        return (self._observations(), rewards, terminateds, truncateds,
                {player: {} for player in self.PLAYERS})

    def __repr__(self) -> str:
        return f"RockPaperScissors(num_rounds={self.num_rounds})"


class _Heuristic(Policy):
    """A policy that does not learn and has no weights."""

    def learn_on_batch(self, samples: Any) -> Dict[str, Any]:
        return {}

    def get_weights(self) -> Dict[str, Any]:
        return {}

    def set_weights(self, weights: Any) -> None:
        pass


class AlwaysSameHeuristic(_Heuristic):
    """Draws a move at the start of each episode and plays it all episode.

    The move is the recurrent state: `get_initial_state()` draws it (from a
    generator seeded with `config["seed"]`), `compute_actions` plays the move
    in `state_batches[0]` and passes the state on unchanged.

    >>> policy = AlwaysSameHeuristic(None, None, {"seed": 0})
    >>> state = policy.get_initial_state()
    >>> actions, state_out, _ = policy.compute_actions([ROCK, PAPER], [np.stack([state[0]] * 2)])
    >>> bool((actions == state[0][0]).all()), state_out[0].shape
    (True, (2, 1))
    """

    def __init__(self, observation_space: Any, action_space: Any, config: Mapping[str, Any]):
        super().__init__(observation_space, action_space, config)
        self._rng = np.random.default_rng(self.config.get("seed"))

    def get_initial_state(self) -> List[np.ndarray]:
        """`[move]`: a move drawn uniformly, as an int64 array of shape `[1]`."""
        return [np.array([self._rng.integers(3)], np.int64)]

    def is_recurrent(self) -> bool:
        return True  # without drawing a move as get_initial_state would

    def num_state_tensors(self) -> int:
        return 1

    def compute_actions(self, obs_batch: Any, state_batches: Optional[List[Any]] = None,
                        prev_action_batch: Any = None, prev_reward_batch: Any = None,
                        info_batch: Any = None, episodes: Optional[List[Any]] = None,
                        explore: Optional[bool] = None, timestep: Optional[int] = None,
                        **kwargs: Any) -> Tuple[np.ndarray, List[np.ndarray], Dict[str, Any]]:
        """Plays the move held in the state, `[B, 1]`; rows without a state (none given)
        draw one.

        Returns:
          `(actions [B] int64, [state [B, 1] int64], {})`.
        """
        if state_batches:
            state = np.asarray(state_batches[0], np.int64).reshape(-1, 1)
        else:
            state = np.stack([self.get_initial_state()[0] for _ in range(len(obs_batch))])
        return state[:, 0].copy(), [state], {}

    def get_state(self) -> Dict[str, Any]:
        """`Policy.get_state` plus `_rng`, the generator's `bit_generator.state`."""
        state = super().get_state()
        state["_rng"] = self._rng.bit_generator.state
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        super().set_state(state)
        if state.get("_rng") is not None:
            self._rng.bit_generator.state = dict(state["_rng"])


class BeatLastHeuristic(_Heuristic):
    """Plays the move that beats the opponent's last move (its observation).

    Observations are moves `[B]` or their one-hot encodings `[B, 3]`.

    >>> BeatLastHeuristic(None, None, {}).compute_actions([ROCK, PAPER, SCISSORS])[0]
    array([1, 2, 0])
    """

    def compute_actions(self, obs_batch: Any, state_batches: Optional[List[Any]] = None,
                        prev_action_batch: Any = None, prev_reward_batch: Any = None,
                        info_batch: Any = None, episodes: Optional[List[Any]] = None,
                        explore: Optional[bool] = None, timestep: Optional[int] = None,
                        **kwargs: Any) -> Tuple[np.ndarray, List[np.ndarray], Dict[str, Any]]:
        """`beats(opponent's last move)` for each row.

        Returns:
          `(actions [B] int64, [], {})`.

        Raises:
          ValueError: an observation that is not a move (nor a one-hot move).
        """
        obs = np.asarray(obs_batch)
        if obs.ndim == 2 and obs.shape[1] == 3:
            obs = np.argmax(obs, axis=1)
        if obs.ndim != 1 or obs.dtype.kind not in "iu" or ((obs < 0) | (obs > 2)).any():
            raise ValueError(f"BeatLastHeuristic: observations must be the opponent's moves "
                             f"[B] ({_MOVES_TEXT}) or their one-hot encodings [B, 3]; got "
                             f"dtype {obs.dtype}, shape {obs.shape}: {obs!r:.200}")
        return beats(obs.astype(np.int64)), [], {}
