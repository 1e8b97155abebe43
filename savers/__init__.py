"""Savers: SavedModel export and loading, checkpoints and serving of tfpolicy policies.

- `PolicySaver(policy, ...)`: `save(export_dir)` writes a SavedModel that any
  TensorFlow runtime can serve, with the specs as JSON beside it;
  `save_checkpoint(dir)` writes only the variables, for weight pushes.
- `load(saved_model_dir, checkpoint_path=None)`, `load_specs`,
  `restore_checkpoint`: loading, with clear errors and no half-loading.
- `policy_loader`: TF-Agents' loader, `policy_loader.load(saved_model_path,
  checkpoint_path=None)` (an export as a `SavedModelPyTFEagerPolicy`) and
  `materialize_saved_model` (an export plus a checkpoint as a new export).
- `load_policy(export_dir, checkpoint_path=None)`: an export as a `TFPolicy`
  (`LoadedPolicy`), to wrap, drive, re-export and update like any policy.
- `SavedModelPyTFEagerPolicy(model_path)`: an export as a numpy `PyPolicy`.
- `export_lite(policy, path)` / `convert_lite(policy)`: the policy as a LiteRT
  (`.tflite`) model with its specs as JSON beside it, for devices and for
  `LitePyPolicy`, the microsecond numpy policy (`LitePyPolicy.from_policy`).
- `export_report`: what `tfpolicy inspect` reports about an export
  (`inspect_path`, `inspect_export`, `format_report`).
- `atomic`: `atomic_directory` / `atomic_write_file`, the all-or-nothing
  writes every export uses, for other packages that write to disk.
- `spec_json`: spec nests to and from JSON (`encode`, `decode`), the form
  the exports describe their specs in.

The package depends on `specs` and `tfpolicy`, never the other way round.
"""

from savers import atomic
from savers import export_report
from savers import lite_export
from savers import lite_py_policy
from savers import loaded_policy
from savers import policy_loader
from savers import policy_saver
from savers import saved_model_py_tf_eager_policy
from savers import spec_json
from savers.export_report import format_report
from savers.export_report import inspect_export
from savers.export_report import inspect_path
from savers.lite_export import LiteConversionError
from savers.lite_export import LiteModel
from savers.lite_export import convert_lite
from savers.lite_export import export_lite
from savers.lite_py_policy import LitePyPolicy
from savers.loaded_policy import LoadedPolicy
from savers.loaded_policy import load_policy
from savers.policy_loader import PolicySpecs
from savers.policy_loader import SignatureLeaf
from savers._loading import load
from savers.policy_loader import load_specs
from savers.policy_loader import materialize_saved_model
from savers.policy_loader import restore_checkpoint
from savers.policy_saver import PolicySaver
from savers.saved_model_py_tf_eager_policy import SavedModelPyTFEagerPolicy

__all__ = [
    "atomic",
    "export_report",
    "lite_export",
    "lite_py_policy",
    "loaded_policy",
    "policy_loader",
    "policy_saver",
    "saved_model_py_tf_eager_policy",
    "spec_json",
    "LiteConversionError",
    "LiteModel",
    "LitePyPolicy",
    "LoadedPolicy",
    "PolicySaver",
    "PolicySpecs",
    "SavedModelPyTFEagerPolicy",
    "SignatureLeaf",
    "convert_lite",
    "export_lite",
    "format_report",
    "inspect_export",
    "inspect_path",
    "load",
    "load_policy",
    "load_specs",
    "materialize_saved_model",
    "restore_checkpoint",
]
