"""The README's code runs: its python blocks in order, and the quickstart it names."""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _python_blocks() -> list:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_python_blocks_run_in_order():
    blocks = _python_blocks()
    assert len(blocks) >= 4
    namespace: dict = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"README.md block {i}", "exec"), namespace)


def test_readme_names_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert 'pip install -e ".[test]" && python -m pytest' in text
    assert "pip install -e . && tfpolicy train --run PPO --env CartPole-v1" in text
    assert "pip install -e . && python examples/quickstart.py" in text
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.rstrip().endswith("python -m pytest")


def test_quickstart_runs_and_reports_validation_error():
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                         capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "actions (clipped to [-1, 1])" in out.stdout
    assert "validation: time_step at 'observation/pos': shape mismatch" in out.stdout
