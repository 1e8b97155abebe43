"""`PolicyMap`: policy id -> `Policy`, at most `capacity` of them in memory (RLlib's name).

A worker with many policies (self-play leagues, one policy per agent) need
not hold them all in memory. `PolicyMap` is a `MutableMapping[str, Policy]`
that keeps the `capacity` most recently used policies in memory; a policy
pushed out of memory by a newer one is *stashed*: its state
(`policy.get_state()`: weights, optimizer variables, counters, mixin and
exploration state, acting generator) is written to disk under `path` in the
learning-policy checkpoint format (`tfpolicy.learning.checkpoint`: JSON plus
a TensorFlow checkpoint, no pickle, written atomically), and only its spec
(class, observation space, action space, config) stays in memory. Reading a
stashed id brings it back: the least recently used policy in memory is
stashed to make room, the policy is rebuilt with
`policy_class(observation_space, action_space, config)` and given its saved
state with `set_state`, bit for bit, and its files are deleted.

Recency: `map[id]`, `map.get(id)`, inserting and `create_policy` make a
policy the most recently used; `id in map`, `len(map)`, `iter(map)`,
`get_spec` and the introspection methods do not, and never restore
anything. `map.values()` and `map.items()` read every policy, so they
restore the stashed ones one after the other (and stash others to make
room), as RLlib's map does: loop over `in_memory_ids()` when only the
policies in memory are wanted.

With `policy_states_are_swappable=True` (all policies of one class with the
same spaces and config, so that their states fit each other's objects), a
restore reuses the object just stashed instead of building a new one: its
state is replaced with the restored policy's state. That saves building a
model but means an object taken from the map earlier may now hold another
policy's state: look policies up by id rather than keeping them.

The stash directory: by default a fresh temporary directory, made at the
first stash and deleted by `close()` or, failing that, when the map is
garbage collected or the interpreter exits. A given `path` is created if
needed and kept; `close()` deletes only the stashes the map wrote there.
Each stashed policy is one checkpoint directory named after its id. Only
the state goes to disk: the spec stays in memory, so a config holding
functions (a `policy_mapping_fn`), or a space the checkpoint format cannot
hold, does not stop a policy from being stashed. One map per `path`.

A stash that fails (a state the format cannot hold, a full disk) raises
before anything changes: the policy stays in memory, no partial file is
left, and the insertion or restore that needed the room does not happen.

>>> import numpy as np
>>> from specs import ArraySpec, BoundedArraySpec
>>> from tfpolicy.learning import Policy
>>> class Bias(Policy):
...     def __init__(self, observation_space, action_space, config):
...         super().__init__(observation_space, action_space, config)
...         self.bias = np.zeros(2, np.float32)
...     def compute_actions(self, obs_batch, state_batches=None, **kwargs):
...         return np.zeros(len(obs_batch), np.int64), [], {}
...     def learn_on_batch(self, samples):
...         return {}
...     def get_weights(self):
...         return {"bias": self.bias.copy()}
...     def set_weights(self, weights):
...         self.bias = np.array(weights["bias"])
>>> policies = PolicyMap(capacity=1)
>>> obs, act = ArraySpec((2,), np.float32), BoundedArraySpec((), np.int64, 0, 1)
>>> policies["a"] = Bias(obs, act, {})
>>> policies["a"].bias[:] = 1.5
>>> policies["b"] = Bias(obs, act, {})
>>> policies.in_memory_ids(), policies.stashed_ids(), len(policies)
(['b'], ['a'], 2)
>>> policies["a"].bias, policies.stashed_ids()
(array([1.5, 1.5], dtype=float32), ['b'])
>>> policies.close()
"""

import collections
import collections.abc
import hashlib
import os
import pathlib
import re
import shutil
import tempfile
import threading
import weakref
from typing import Any, Dict, Iterator, List, Mapping, Optional, Union

from tfpolicy.evaluation.policy_spec import PolicySpec
from tfpolicy.learning import checkpoint as checkpoint_lib
from tfpolicy.learning.policy import Policy, PolicyID, class_path

__all__ = ["PolicyMap", "CAPACITY_KEY"]

PathLike = Union[str, "os.PathLike[str]"]

# The config key that sets a worker's map capacity, named by the capacity error.
CAPACITY_KEY = "multiagent.policy_map_capacity"
# Characters kept from a policy id in its stash directory's name.
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _check_capacity(capacity: Any) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError(
            f"PolicyMap capacity (config key {CAPACITY_KEY!r}) must be an int >= 1, the "
            f"number of policies kept in memory; got {capacity!r} "
            f"({type(capacity).__name__})")
    return capacity


def _check_id(policy_id: Any) -> None:
    if not isinstance(policy_id, str):
        raise TypeError(f"a policy id must be a str, got {type(policy_id).__name__}: "
                        f"{policy_id!r}")


class PolicyMap(collections.abc.MutableMapping):
    """An LRU map of policy ids to policies that stashes the least recently used to disk.

    Args:
      capacity: the most policies kept in memory (>= 1); a worker takes it from
        `config["multiagent"]["policy_map_capacity"]`.
      policy_states_are_swappable: all policies share class, spaces and config,
        so a restore may load its state into the object it just stashed instead
        of building a new one.
      path: the directory to stash into; None for a fresh temporary directory,
        made at the first stash and deleted by `close()`.

    Raises:
      ValueError: `capacity` is not an int >= 1 (the message names the config
        key `multiagent.policy_map_capacity`).
    """

    def __init__(self, capacity: int = 100, policy_states_are_swappable: bool = False,
                 path: Optional[PathLike] = None):
        self.capacity = _check_capacity(capacity)
        self.policy_states_are_swappable = bool(policy_states_are_swappable)
        self._given_path = None if path is None else pathlib.Path(os.fspath(path))
        self._root: Optional[pathlib.Path] = None
        self._cleanup: Optional[weakref.finalize] = None
        # Every id, in insertion order; the in-memory ones least recently used first.
        self._specs: Dict[PolicyID, PolicySpec] = {}
        self._memory: "collections.OrderedDict[PolicyID, Policy]" = collections.OrderedDict()
        self._stashed: Dict[PolicyID, pathlib.Path] = {}
        self._lock = threading.RLock()

    # ---- the mapping --------------------------------------------------------------------------

    def __getitem__(self, policy_id: PolicyID) -> Policy:
        """The policy, restored from disk if it was stashed; it becomes the most recently used.

        Raises:
          KeyError: an unknown id (the message names it and the known ids).
        """
        with self._lock:
            policy = self._memory.get(policy_id)
            if policy is not None:
                self._memory.move_to_end(policy_id)
                return policy
            if policy_id not in self._stashed:
                raise self._unknown(policy_id)
            return self._restore(policy_id)

    def __setitem__(self, policy_id: PolicyID, policy: Policy) -> None:
        """Inserts (or replaces) a policy as the most recently used; its spec is read
        from `type(policy)`, `policy.observation_space`, `.action_space` and `.config`.

        Raises:
          TypeError: `policy_id` is not a str, or `policy` is not a `Policy`.
        """
        if not isinstance(policy, Policy):
            raise TypeError(f"PolicyMap[{policy_id!r}] must be a tfpolicy.learning.Policy, got "
                            f"{type(policy).__name__}")
        self._insert(policy_id, policy, PolicySpec(type(policy), policy.observation_space,
                                                   policy.action_space, dict(policy.config)))

    def __delitem__(self, policy_id: PolicyID) -> None:
        """Removes a policy; a stashed one's files are deleted.

        Raises:
          KeyError: an unknown id.
        """
        with self._lock:
            if policy_id not in self._specs:
                raise self._unknown(policy_id)
            del self._specs[policy_id]
            self._memory.pop(policy_id, None)
            directory = self._stashed.pop(policy_id, None)
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)

    def get(self, policy_id: PolicyID, default: Any = None) -> Any:
        """`map[policy_id]` for a known id (restoring a stashed one), else `default`; an
        error while restoring is raised, not taken for a missing id."""
        with self._lock:
            return self[policy_id] if policy_id in self._specs else default

    def clear(self) -> None:
        """Removes every policy, deleting the stashes without restoring them."""
        with self._lock:
            for policy_id in list(self._specs):
                del self[policy_id]

    def __iter__(self) -> Iterator[PolicyID]:
        """Every id, stashed ones included, in insertion order; restores nothing."""
        with self._lock:
            return iter(list(self._specs))

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, policy_id: object) -> bool:
        return policy_id in self._specs

    def __repr__(self) -> str:
        return (f"PolicyMap(capacity={self.capacity}, in_memory={self.in_memory_ids()}, "
                f"stashed={self.stashed_ids()})")

    # ---- building, specs and introspection ----------------------------------------------------

    def create_policy(self, policy_id: PolicyID, policy_cls: type, observation_space: Any,
                      action_space: Any, config: Mapping[str, Any]) -> Policy:
        """Builds `policy_cls(observation_space, action_space, config)` and inserts it.

        The spec recorded for later rebuilds is these arguments.

        Returns:
          The new policy (the most recently used).

        Raises:
          TypeError: `policy_cls` is not a `Policy` subclass (named with the id).
        """
        _check_id(policy_id)
        if not (isinstance(policy_cls, type) and issubclass(policy_cls, Policy)):
            raise TypeError(f"the policy class of policy {policy_id!r} must be a subclass of "
                            f"tfpolicy.learning.Policy, got {policy_cls!r}")
        config = dict(config or {})
        policy = policy_cls(observation_space, action_space, dict(config))
        self._insert(policy_id, policy,
                     PolicySpec(policy_cls, observation_space, action_space, config))
        return policy

    def get_spec(self, policy_id: PolicyID) -> PolicySpec:
        """The `PolicySpec(policy_class, observation_space, action_space, config)` that
        rebuilds a policy, in memory or stashed, without restoring it.

        Raises:
          KeyError: an unknown id.
        """
        with self._lock:
            spec = self._specs.get(policy_id)
            if spec is None:
                raise self._unknown(policy_id)
            return spec._replace(config=dict(spec.config))

    def in_memory_ids(self) -> List[PolicyID]:
        """The ids of the policies in memory, least recently used first."""
        with self._lock:
            return list(self._memory)

    def stashed_ids(self) -> List[PolicyID]:
        """The ids of the policies stashed on disk, in the order they were stashed."""
        with self._lock:
            return list(self._stashed)

    @property
    def path(self) -> Optional[pathlib.Path]:
        """The stash directory: the given `path`, or the temporary one once made
        (None before the first stash)."""
        return self._given_path if self._given_path is not None else self._root

    def get_policy_state(self, policy_id: PolicyID) -> Dict[str, Any]:
        """`get_state()` of a policy, read from disk for a stashed one (not restoring it,
        not changing recency).

        Raises:
          KeyError: an unknown id.
        """
        with self._lock:
            if policy_id in self._memory:
                return self._memory[policy_id].get_state()
            if policy_id not in self._stashed:
                raise self._unknown(policy_id)
            state = dict(checkpoint_lib.read_policy_checkpoint(self._stashed[policy_id]).state)
            spec = self._specs[policy_id]
            state["policy_spec"] = {"policy_class": class_path(spec.policy_class),
                                    "observation_space": spec.observation_space,
                                    "action_space": spec.action_space,
                                    "config": dict(spec.config)}
            return state

    def set_policy_state(self, policy_id: PolicyID, state: Mapping[str, Any]) -> None:
        """`set_state(state)` on a policy; for a stashed one, its stash is rewritten
        (atomically) without restoring it, and the state is checked when it is restored.

        Raises:
          KeyError: an unknown id.
        """
        with self._lock:
            if policy_id in self._memory:
                self._memory[policy_id].set_state(state)
                return
            if policy_id not in self._stashed:
                raise self._unknown(policy_id)
            self._write(policy_id, self._specs[policy_id].policy_class, state)

    def close(self) -> None:
        """Deletes the stashes (and the temporary directory); the stashed policies leave
        the map, the ones in memory stay. A later stash starts a new directory."""
        with self._lock:
            for policy_id, directory in self._stashed.items():
                del self._specs[policy_id]
                shutil.rmtree(directory, ignore_errors=True)
            self._stashed.clear()
            if self._cleanup is not None:
                self._cleanup()
            self._cleanup = None
            self._root = None

    # ---- stashing -----------------------------------------------------------------------------

    def _unknown(self, policy_id: Any) -> KeyError:
        return KeyError(f"policy id {policy_id!r} is not in the PolicyMap; its policy ids are "
                        f"{list(self._specs)}")

    def _insert(self, policy_id: PolicyID, policy: Policy, spec: PolicySpec) -> None:
        _check_id(policy_id)
        with self._lock:
            if policy_id not in self._memory and len(self._memory) >= self.capacity:
                self._stash_least_recently_used()
            directory = self._stashed.pop(policy_id, None)
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
            self._specs[policy_id] = spec
            self._memory[policy_id] = policy
            self._memory.move_to_end(policy_id)

    def _stash_least_recently_used(self) -> Policy:
        """Writes the least recently used policy to disk, then drops it from memory;
        returns the object. A failed write changes nothing."""
        policy_id, policy = next(iter(self._memory.items()))
        try:
            self._write(policy_id, type(policy), policy.get_state())
        except Exception as e:
            e.add_note(f"while stashing policy {policy_id!r} to make room in the PolicyMap "
                       f"(capacity {self.capacity}); it stays in memory")
            raise
        del self._memory[policy_id]
        return policy

    def _write(self, policy_id: PolicyID, policy_class: type, state: Mapping[str, Any]) -> None:
        directory = self._directory_for(policy_id)
        state = {key: value for key, value in state.items() if key != "policy_spec"}
        # The spec stays in memory: only the state goes to disk.
        checkpoint_lib.write_policy_checkpoint(directory, state, policy_class=policy_class,
                                               observation_space=None, action_space=None,
                                               config={})
        self._stashed[policy_id] = directory

    def _restore(self, policy_id: PolicyID) -> Policy:
        directory = self._stashed[policy_id]
        # Read before making room: an unreadable stash then evicts nothing.
        state = checkpoint_lib.read_policy_checkpoint(directory).state
        spec = self._specs[policy_id]
        policy = None
        if len(self._memory) >= self.capacity:
            evicted = self._stash_least_recently_used()
            if self.policy_states_are_swappable and type(evicted) is spec.policy_class:
                policy = evicted
        if policy is None:
            policy = spec.policy_class(spec.observation_space, spec.action_space,
                                       dict(spec.config))
        policy.set_state(state)
        del self._stashed[policy_id]
        self._memory[policy_id] = policy
        shutil.rmtree(directory, ignore_errors=True)
        return policy

    def _directory_for(self, policy_id: PolicyID) -> pathlib.Path:
        """`<root>/policy-<id, unsafe characters replaced>-<hash of the id>`."""
        if self._given_path is not None:
            root = self._given_path
            root.mkdir(parents=True, exist_ok=True)
        else:
            if self._root is None:
                self._root = pathlib.Path(tempfile.mkdtemp(prefix="tfpolicy-policy-map-"))
                self._cleanup = weakref.finalize(self, shutil.rmtree, os.fspath(self._root),
                                                 True)
            root = self._root
        digest = hashlib.sha256(policy_id.encode("utf-8")).hexdigest()[:12]
        return root / f"policy-{_UNSAFE.sub('_', policy_id)[:64]}-{digest}"
