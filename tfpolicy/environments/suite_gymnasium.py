"""`suite_gymnasium`: TF-Agents' gymnasium loader, under its name.

TF-Agents has two loaders with one signature: `suite_gym` for the old `gym`
package and `suite_gymnasium` for gymnasium. Here both load gymnasium
environments, so this module offers `suite_gym`'s `load` and `wrap_env`
under the second name; see `suite_gym` for what they do.

>>> env = load("CartPole-v1", max_episode_steps=20)
>>> type(env).__name__, env.duration
('TimeLimit', 20)
"""

from tfpolicy.environments.suite_gym import TimeLimitWrapperType, load, wrap_env

__all__ = ["TimeLimitWrapperType", "load", "wrap_env"]
