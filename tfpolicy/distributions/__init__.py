"""Distributions of the policy layer, under TF-Agents' module names.

- `shifted_categorical.ShiftedCategorical`: a categorical over the values of
  a discrete spec that does not start at zero.
"""

from tfpolicy.distributions import shifted_categorical
from tfpolicy.distributions.shifted_categorical import ShiftedCategorical

__all__ = ["shifted_categorical", "ShiftedCategorical"]
