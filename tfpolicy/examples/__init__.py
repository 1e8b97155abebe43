"""Example environments and policies (import explicitly: `import tfpolicy.examples`).

- `rock_paper_scissors`: the two-player `RockPaperScissors` `MultiAgentEnv` and
  the heuristic opponents `AlwaysSameHeuristic` and `BeatLastHeuristic`, for
  training a learned policy against fixed ones.
"""

from tfpolicy.examples import rock_paper_scissors
from tfpolicy.examples.rock_paper_scissors import AlwaysSameHeuristic
from tfpolicy.examples.rock_paper_scissors import BeatLastHeuristic
from tfpolicy.examples.rock_paper_scissors import RockPaperScissors

__all__ = [
    "rock_paper_scissors",
    "AlwaysSameHeuristic",
    "BeatLastHeuristic",
    "RockPaperScissors",
]
