"""Utilities TF-Agents users reach for: `from tfpolicy.utils import common`.

`common` holds the few `tf_agents.utils.common` helpers that training code
calls everywhere (`create_variable`, `function`, `soft_variables_update`,
`has_eager_been_enabled`, the element-wise TD losses, `scale_to_spec`,
`Checkpointer`), with TF-Agents' signatures and TF2-eager semantics.
"""

from tfpolicy.utils import common

__all__ = ["common"]
