"""Makes the shared helper module `spec_strategies` importable from the spec tests.

The project runs pytest with `--import-mode=importlib`, which does not put test
directories on `sys.path`; this puts this directory there so the tests can
simply `import spec_strategies`.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
