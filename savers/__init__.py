"""Savers: SavedModel export and loading, checkpoints and serving of tfpolicy policies.

- `PolicySaver(policy, ...)`: `save(export_dir)` writes a SavedModel that any
  TensorFlow runtime can serve, with the specs as JSON beside it;
  `save_checkpoint(dir)` writes only the variables, for weight pushes.
- `load(saved_model_dir, checkpoint_path=None)`, `load_specs`,
  `restore_checkpoint`: loading, with clear errors and no half-loading.
- `SavedModelPyTFEagerPolicy(model_path)`: an export as a numpy `PyPolicy`.

The package depends on `specs` and `tfpolicy`, never the other way round.
"""

from savers import policy_loader
from savers import policy_saver
from savers import saved_model_py_tf_eager_policy
from savers.policy_loader import PolicySpecs
from savers.policy_loader import SignatureLeaf
from savers.policy_loader import load
from savers.policy_loader import load_specs
from savers.policy_loader import restore_checkpoint
from savers.policy_saver import PolicySaver
from savers.saved_model_py_tf_eager_policy import SavedModelPyTFEagerPolicy

__all__ = [
    "policy_loader",
    "policy_saver",
    "saved_model_py_tf_eager_policy",
    "PolicySaver",
    "PolicySpecs",
    "SavedModelPyTFEagerPolicy",
    "SignatureLeaf",
    "load",
    "load_specs",
    "restore_checkpoint",
]
