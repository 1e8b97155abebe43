"""Puts this directory on `sys.path` so the policy tests can `import policy_toys`.

pytest runs with `--import-mode=importlib`, which leaves test directories off the path.
"""

import pathlib
import sys

_HERE = str(pathlib.Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
