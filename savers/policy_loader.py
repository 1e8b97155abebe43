"""Loading exported policies the TF-Agents way, and assembling exports from checkpoints.

- `load(saved_model_path, checkpoint_path=None)`: an export written by
  `PolicySaver.save` as a numpy policy (`SavedModelPyTFEagerPolicy`),
  optionally with the weights of a later checkpoint.
- `materialize_saved_model(saved_model_path, checkpoint_path, output_path)`:
  a new, complete export made of an export's functions and a checkpoint's
  weights, for a training run that exported once and checkpointed often.

The module also re-exports the loading helpers `load_specs`,
`restore_checkpoint`, `PolicySpecs` and `SignatureLeaf`. `savers.load` (the
export as a bare SavedModel module, with `policy_specs` attached) is a
different function from this module's `load`, which returns a policy.

>>> import tempfile
>>> import numpy as np
>>> import tensorflow as tf
>>> from specs import BoundedTensorSpec, TensorSpec
>>> from savers.policy_saver import PolicySaver
>>> from tfpolicy.policies import FixedPolicy
>>> from tfpolicy.trajectories import time_step as ts
>>> tf_policy = FixedPolicy(2, ts.time_step_spec(TensorSpec([3], tf.float32, "obs")),
...                         BoundedTensorSpec([], tf.int32, 0, 3, "action"))
>>> export_dir = tempfile.mkdtemp() + "/policy"
>>> PolicySaver(tf_policy).save(export_dir)
>>> policy = load(export_dir)
>>> policy.action(ts.restart(np.zeros(3, np.float32))).action
array(2, dtype=int32)
"""

import os
import pathlib
import shutil
from typing import Optional, Union

import numpy as np

from savers import _loading
from savers import atomic
from savers._export_document import SPECS_FILE
from savers._loading import PolicySpecs
from savers._loading import SignatureLeaf
from savers._loading import load_specs
from savers._loading import restore_checkpoint
from savers.saved_model_py_tf_eager_policy import SavedModelPyTFEagerPolicy

__all__ = [
    "PolicySpecs",
    "SignatureLeaf",
    "load",
    "load_specs",
    "materialize_saved_model",
    "restore_checkpoint",
]

PathLike = Union[str, "os.PathLike[str]"]

_MODEL_FILES = ("saved_model.pb", "saved_model.pbtxt", SPECS_FILE)


def load(saved_model_path: PathLike,
         checkpoint_path: Optional[PathLike] = None) -> SavedModelPyTFEagerPolicy:
    """Loads an export as a numpy policy, optionally with a checkpoint's weights.

    Args:
      saved_model_path: the export directory (`PolicySaver.save`): it holds
        `saved_model.pb`, `policy_specs.json` and `variables/`.
      checkpoint_path: optionally, a directory written by
        `PolicySaver.save_checkpoint` (or a checkpoint prefix) of the same
        policy, whose variables replace the exported ones. An empty string
        counts as none.

    Returns:
      A `SavedModelPyTFEagerPolicy` with the export's specs, taking unbatched
      numpy time steps.

    Raises:
      FileNotFoundError: the export, one of its files or the checkpoint is missing.
      NotADirectoryError: `saved_model_path` is a file.
      ValueError: a file is corrupt or truncated, or the checkpoint's
        variables do not match the export's (nothing is assigned then).
    """
    return SavedModelPyTFEagerPolicy(saved_model_path, checkpoint_path=checkpoint_path or None)


def materialize_saved_model(saved_model_path: PathLike, checkpoint_path: PathLike,
                            output_path: PathLike) -> None:
    """Writes a complete export: `saved_model_path`'s functions with `checkpoint_path`'s weights.

    A run that exports its policy once (at step 0) and then writes only
    checkpoints has no export of a later step; this assembles one, to serve
    or to `load` without passing the checkpoint each time. The output holds
    the export's `saved_model.pb`, `policy_specs.json` and `assets/`, and the
    checkpoint's variables as `variables/`.

    The checkpoint is checked against the export first (every variable
    present, with the same shape and dtype), and the output is loaded back
    and compared with the checkpoint's values before it appears at
    `output_path`, all at once (see `savers.atomic`).

    Args:
      saved_model_path: the export directory (`PolicySaver.save`).
      checkpoint_path: a checkpoint of the same policy: a directory written by
        `PolicySaver.save_checkpoint`, or a checkpoint prefix.
      output_path: where to write the new export; it must not exist.

    Raises:
      FileExistsError: `output_path` exists (nothing is written).
      FileNotFoundError: the export, one of its files or the checkpoint is missing.
      ValueError: a file is corrupt or truncated, or the checkpoint does not
        match the export (the message lists each differing variable).
    """
    output = pathlib.Path(os.fspath(output_path))
    if output.exists() or output.is_symlink():
        raise FileExistsError(f"materialize_saved_model: output_path {output} already exists; "
                              "it must be a new path")
    source = pathlib.Path(os.fspath(saved_model_path))
    # Assigning checks the whole checkpoint against the export before any write.
    exported = _loading.load(source, checkpoint_path)
    expected = _variable_values(exported)
    prefix = pathlib.Path(_loading.checkpoint_prefix(checkpoint_path))
    shards = sorted(prefix.parent.glob(f"{prefix.name}.data-*"))
    with atomic.atomic_directory(output, what="a materialized export") as tmp:
        for name in _MODEL_FILES:
            if (source / name).exists():
                shutil.copy2(source / name, tmp / name)
        if (source / "assets").is_dir():
            shutil.copytree(source / "assets", tmp / "assets")
        variables = tmp / "variables"
        variables.mkdir()
        shutil.copy2(f"{prefix}.index", variables / "variables.index")
        for shard in shards:
            suffix = shard.name[len(prefix.name):]
            shutil.copy2(shard, variables / f"variables{suffix}")
        _check_materialized(tmp, expected, source, prefix)


def _variable_values(loaded: object) -> list:
    return [(v.name, np.asarray(v.numpy())) for _, _, v in _loading._targets(loaded)]


def _check_materialized(directory: pathlib.Path, expected: list, source: pathlib.Path,
                        prefix: pathlib.Path) -> None:
    """Raises unless the new export loads with exactly the checkpoint's values."""
    got = _variable_values(_loading.load(directory))
    different = [name for (name, want), (_, value) in zip(expected, got)
                 if want.shape != value.shape or not np.array_equal(want, value)]
    if len(got) != len(expected) or different:
        raise ValueError(
            f"materialize_saved_model: the export {source} with the variables of {prefix} does "
            f"not load with the checkpoint's values (different: {different or 'the count'}); "
            "was the checkpoint written by PolicySaver.save_checkpoint for this export?")
