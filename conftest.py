"""Test-wide settings: quiet TensorFlow logs, deterministic hypothesis profile for CI,
and the shared toy environments importable as `env_toys`."""

import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The environment and driver tests `import env_toys`; `--import-mode=importlib`
# leaves test directories off the path, and the worker processes of
# ParallelPyEnvironment find the module through the `sys.path` they inherit.
_ENV_TOYS = str(pathlib.Path(__file__).resolve().parent / "tests" / "tfpolicy" / "environments")
if _ENV_TOYS not in sys.path:
    sys.path.insert(0, _ENV_TOYS)

from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "default", max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "ci", max_examples=40, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("ci" if os.environ.get("CI") else "default")
