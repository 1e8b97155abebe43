"""Flat names for the inputs and outputs of exported signatures.

A SavedModel signature takes and returns flat dicts of tensors, so every leaf
of the policy's nests needs a name that a client holding only a dict of
tensors can use. The rules:

Nest-path names (`use_nest_path_signatures=True`, the default). A leaf is
named by its nest path inside the signature's root, the components joined
by '/':

- `action` and `distribution` inputs: the time step's fields by name,
  `step_type`, `reward` (or `reward/<path>` for nested rewards), `discount`,
  `observation` (or `observation/<path>`); the policy state `state/<path>`
  (`state` for a single-leaf state);
- `action` outputs: `action` (or `action/<path>`), `state/<path>`,
  `info/<path>` (e.g. `info/log_probability`);
- `distribution` outputs: `distribution/<action path>/<parameter>`
  (`distribution/<parameter>` for a single action leaf), then `state/...`
  and `info/...` as for `action`;
- `get_initial_state`: input `batch_size`, outputs `state/...`.

Path components are dict keys, namedtuple field names and list/tuple
indices. Characters other than letters, digits, '_', '.' and '-' in a
component (including '/') become '_'; an empty component becomes '_'.

Spec names (`use_nest_path_signatures=False`). A leaf is named by its spec's
`name` when that name is set, is a valid TensorFlow name
(`[A-Za-z0-9.][A-Za-z0-9_./-]*`) and no other leaf on the same side (inputs
or outputs) of the signature has it; every other leaf (a missing, invalid or
colliding name) gets its nest-path name. TF-Agents named these leaves by
position ('0/step_type') and rejected colliding spec names; a collision here
is never an error.

The state leaves are named once (as the `state` group alone) and those
names are used wherever the state appears: `action` and `distribution`
inputs and outputs and `get_initial_state` outputs, so a client feeds the
state outputs straight back in by name. No other leaf takes a state name.

Uniqueness. TensorFlow turns each input name into a Python parameter name
by replacing every character that is not a letter or digit with '_'
(`observation/a_b` and `observation/a/b` both become `observation_a_b`) and
rejects two names that end up equal. Names are therefore made unique in that
form, in flat order: a later leaf whose name is taken gets the suffix `_2`
(then `_3`, ...). Outputs follow the same rule.

>>> import tensorflow as tf
>>> from tfpolicy.trajectories import time_step as ts
>>> spec = ts.time_step_spec({"pos": tf.TensorSpec([2], tf.float32, "x"),
...                           "vel": tf.TensorSpec([2], tf.float32, "x")})
>>> [leaf.name for leaf in flat_leaves([((), spec)], use_nest_paths=True)]
['step_type', 'reward', 'discount', 'observation/pos', 'observation/vel']
>>> [leaf.name for leaf in flat_leaves([((), spec)], use_nest_paths=False)]
['step_type', 'reward', 'discount', 'observation/pos', 'observation/vel']
>>> flat_leaves([(("state",), [tf.TensorSpec([3], tf.float32)])], True, (None,))[0].spec
TensorSpec(shape=(None, 3), dtype=tf.float32, name='state/0')
"""

import contextlib
import logging
import re
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple

import tensorflow as tf
import tree

from specs import NestedTensorSpec

__all__ = [
    "FlatLeaf",
    "flat_leaves",
    "describe",
    "argument_key",
    "is_valid_name",
    "quiet_argument_renaming",
]

_COMPONENT_CHARS = re.compile(r"[^A-Za-z0-9_.\-]")
_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_./\-]*$")

Group = Tuple[Tuple[str, ...], NestedTensorSpec]


class FlatLeaf(NamedTuple):
    """One named leaf of a signature.

    Attributes:
      name: the signature key (also the `TensorSpec`'s name).
      path: the leaf's nest path from the signature's root ('observation/pos',
        'state/0/1'), whatever the naming rule.
      spec: a `tf.TensorSpec` with the outer dims prepended, named `name`.
    """

    name: str
    path: str
    spec: tf.TensorSpec


def sanitize_component(component: Any) -> str:
    """A path component with every character outside `[A-Za-z0-9_.-]` replaced by '_'."""
    return _COMPONENT_CHARS.sub("_", str(component)) or "_"


def argument_key(name: str) -> str:
    """The Python parameter name TensorFlow makes of a signature input name."""
    swapped = "".join(c if c.isalnum() else "_" for c in name)
    return swapped if swapped[:1].isalpha() else "arg_" + swapped


def _unique(name: str, taken: set) -> str:
    candidate, n = name, 1
    while argument_key(candidate) in taken:
        n += 1
        candidate = f"{name}_{n}"
    taken.add(argument_key(candidate))
    return candidate


def flat_leaves(groups: Sequence[Group], use_nest_paths: bool,
                outer_dims: Sequence[Optional[int]] = (),
                reserved: Sequence[str] = ()) -> List[FlatLeaf]:
    """Names every leaf of one side (inputs or outputs) of a signature.

    Args:
      groups: `(prefix, nest)` pairs in signature order; each leaf's path is
        the prefix's components followed by its path inside the nest
        (`((), time_step_spec)`, `(("state",), policy_state_spec)`).
      use_nest_paths: name leaves by nest path (True) or by spec
        name where that is possible (False); see the module docstring.
      outer_dims: dims prepended to every spec's shape (`(None,)` for any batch).
      reserved: names already used on this side of the signature (by leaves
        named elsewhere, like the state); no leaf here gets them.

    Returns:
      The named leaves, in the order of `tree.flatten` over the groups.
    """
    entries = []
    for prefix, nest in groups:
        for path, spec in tree.flatten_with_path(nest):
            components = list(prefix) + [sanitize_component(p) for p in path]
            entries.append(("/".join(components) or "value", "/".join(
                [*prefix, *(str(p) for p in path)]) or "value", spec))
    names: List[Optional[str]] = [None] * len(entries)
    taken = {argument_key(name) for name in reserved}
    if not use_nest_paths:
        counts: Dict[str, int] = {}
        for _, _, spec in entries:
            if spec.name and _VALID_NAME.match(spec.name):
                key = argument_key(spec.name)
                counts[key] = counts.get(key, 0) + 1
        for i, (_, _, spec) in enumerate(entries):
            if (spec.name and _VALID_NAME.match(spec.name) and counts[argument_key(spec.name)] == 1
                    and argument_key(spec.name) not in taken):
                names[i] = spec.name
                taken.add(argument_key(spec.name))
    leaves = []
    for i, (path_name, path, spec) in enumerate(entries):
        name = names[i] or _unique(path_name, taken)
        shape = None if spec.shape.rank is None else list(outer_dims) + spec.shape.as_list()
        leaves.append(FlatLeaf(name, path, tf.TensorSpec(shape, spec.dtype, name)))
    return leaves


def describe(leaves: Sequence[FlatLeaf]) -> List[Dict[str, Any]]:
    """The JSON description of named leaves: name, path, shape (null dims unknown), dtype."""
    return [{"name": leaf.name, "path": leaf.path,
             "shape": None if leaf.spec.shape.rank is None else leaf.spec.shape.as_list(),
             "dtype": leaf.spec.dtype.name} for leaf in leaves]


class _DropArgumentRenaming(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "is not a valid tf.function parameter name" not in record.getMessage()


_ARGUMENT_RENAMING_FILTER = _DropArgumentRenaming()


@contextlib.contextmanager
def quiet_argument_renaming() -> Iterator[None]:
    """Silences TensorFlow's warning that a name like 'observation/pos' is used as the
    Python parameter 'observation_pos': expected for nest-path names, so only noise."""
    logger = logging.getLogger("absl")
    logger.addFilter(_ARGUMENT_RENAMING_FILTER)
    try:
        yield
    finally:
        logger.removeFilter(_ARGUMENT_RENAMING_FILTER)


def is_valid_name(name: str) -> bool:
    """Whether `name` is a valid TensorFlow name: `[A-Za-z0-9.][A-Za-z0-9_./-]*`."""
    return bool(_VALID_NAME.match(name))
