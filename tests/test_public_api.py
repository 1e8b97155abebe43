"""Every name a package lists in `__all__` exists, and the everyday names are re-exported."""

import importlib

import pytest

PACKAGES = [
    "specs",
    "specs.array_spec",
    "specs.distribution_spec",
    "specs.tensor_spec",
    "specs.nest_utils",
    "specs.spaces",
    "specs.types",
    "tfpolicy",
    "tfpolicy.trajectories",
    "tfpolicy.trajectories.time_step",
    "tfpolicy.trajectories.policy_step",
    "tfpolicy.trajectories.trajectory",
    "tfpolicy.environments",
    "tfpolicy.environments.py_environment",
    "tfpolicy.environments.gymnasium_wrapper",
    "tfpolicy.environments.wrappers",
    "tfpolicy.environments.batched_py_environment",
    "tfpolicy.networks",
    "tfpolicy.networks.network",
    "tfpolicy.networks.encoding_network",
    "tfpolicy.networks.q_network",
    "tfpolicy.networks.q_rnn_network",
    "tfpolicy.networks.actor_distribution_network",
    "tfpolicy.networks.actor_distribution_rnn_network",
    "tfpolicy.networks.value_network",
    "tfpolicy.networks.value_rnn_network",
    "tfpolicy.networks.utils",
    "tfpolicy.networks.sequential",
    "tfpolicy.networks.nest_map",
    "tfpolicy.networks.expand_dims_layer",
    "tfpolicy.networks.bias_layer",
    "tfpolicy.networks.mask_splitter_network",
    "tfpolicy.networks.lstm_encoding_network",
    "tfpolicy.networks.normal_projection_network",
    "tfpolicy.networks.categorical_projection_network",
    "tfpolicy.policies",
    "tfpolicy.policies.tf_policy",
    "tfpolicy.policies.py_policy",
    "tfpolicy.policies.py_tf_eager_policy",
    "tfpolicy.policies.flat_bridge",
    "tfpolicy.policies.input_pruning",
    "tfpolicy.policies.tf_py_policy",
    "tfpolicy.policies.random_py_policy",
    "tfpolicy.policies.random_tf_policy",
    "tfpolicy.policies.scripted_py_policy",
    "tfpolicy.policies.fixed_policy",
    "tfpolicy.policies.q_policy",
    "tfpolicy.policies.greedy_policy",
    "tfpolicy.policies.epsilon_greedy_policy",
    "tfpolicy.policies.boltzmann_policy",
    "tfpolicy.policies.actor_policy",
    "tfpolicy.policies.gaussian_policy",
    "tfpolicy.policies.ou_noise_policy",
    "tfpolicy.policies.utils",
    "tfpolicy.policies.batched_py_policy",
    "tfpolicy.policies.temporal_action_smoothing",
    "tfpolicy.policies.policy_info_updater_wrapper",
    "tfpolicy.replay",
    "tfpolicy.replay.uniform_replay_buffer",
    "tfpolicy.replay.tf_uniform_replay_buffer",
    "tfpolicy.drivers",
    "tfpolicy.drivers.py_driver",
    "tfpolicy.drivers.dynamic_step_driver",
    "tfpolicy.drivers.dynamic_episode_driver",
    "tfpolicy.drivers.tf_driver",
    "tfpolicy.metrics",
    "tfpolicy.metrics.py_metrics",
    "tfpolicy.metrics.tf_metrics",
    "tfpolicy.metrics.metric_utils",
    "tfpolicy.environments.tf_environment",
    "tfpolicy.environments.tf_py_environment",
    "tfpolicy.environments.parallel_py_environment",
    "tfpolicy.environments.gymnasium_vector_environment",
    "tfpolicy.environments.random_py_environment",
    "tfpolicy.environments.random_tf_environment",
    "tfpolicy.environments.suite_gym",
    "tfpolicy.environments.suite_gymnasium",
    "tfpolicy.environments.utils",
    "tfpolicy.utils",
    "tfpolicy.utils.common",
    "tfpolicy.distributions",
    "tfpolicy.distributions.shifted_categorical",
    "savers",
    "savers.policy_saver",
    "savers.policy_loader",
    "savers.saved_model_py_tf_eager_policy",
    "savers.export_report",
    "savers.lite_export",
    "savers.lite_py_policy",
    "savers.loaded_policy",
    "savers.atomic",
    "savers.spec_json",
    "tfpolicy.learning",
    "tfpolicy.learning.checkpoint",
    "tfpolicy.learning.distributions",
    "tfpolicy.learning.dynamic_tf_policy",
    "tfpolicy.learning.mixins",
    "tfpolicy.learning.models",
    "tfpolicy.learning.policy",
    "tfpolicy.learning.postprocessing",
    "tfpolicy.learning.rnn_sequencing",
    "tfpolicy.learning.sample_batch",
    "tfpolicy.learning.sampling",
    "tfpolicy.learning.schedules",
    "tfpolicy.learning.sgd",
    "tfpolicy.learning.tf_policy_template",
    "tfpolicy.learning.exploration",
    "tfpolicy.learning.lite_acting",
    "tfpolicy.evaluation",
    "tfpolicy.evaluation.env_creator",
    "tfpolicy.evaluation.metrics",
    "tfpolicy.evaluation.rollout_ops",
    "tfpolicy.evaluation.rollout_worker",
    "tfpolicy.evaluation.worker_set",
    "tfpolicy.evaluation.ray_session",
    "tfpolicy.evaluation.policy_map",
    "tfpolicy.evaluation.policy_spec",
    "tfpolicy.evaluation.episode",
    "tfpolicy.evaluation.multi_agent_env",
    "tfpolicy.evaluation.pettingzoo_env",
    "tfpolicy.evaluation.policy_optimizer",
    "tfpolicy.evaluation.sync_samples_optimizer",
    "tfpolicy.evaluation.async_gradients_optimizer",
    "tfpolicy.evaluation.async_samples_optimizer",
    "tfpolicy.examples",
    "tfpolicy.examples.rock_paper_scissors",
    "tfpolicy.algorithms",
    "tfpolicy.algorithms.a2c",
    "tfpolicy.algorithms.a3c",
    "tfpolicy.algorithms.algorithm",
    "tfpolicy.algorithms.algorithm_config",
    "tfpolicy.algorithms.dqn",
    "tfpolicy.algorithms.pg",
    "tfpolicy.algorithms.ppo",
    "tfpolicy.algorithms.replay_buffers",
    "tfpolicy.algorithms.sac",
    "tfpolicy.algorithms.simple_q",
    "tfpolicy.algorithms.tuned",
    "tfpolicy.cli",
    "tfpolicy.algorithms.logger",
]


@pytest.mark.parametrize("module_name", PACKAGES)
def test_all_names_exist(module_name):
    module = importlib.import_module(module_name)
    assert isinstance(module.__all__, list)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module_name}.__all__ lists missing names {missing}"
    assert len(set(module.__all__)) == len(module.__all__)


def test_tfpolicy_reexports_everyday_names():
    import tfpolicy
    from tfpolicy.policies import TFPolicy, tf_policy
    from tfpolicy.trajectories import time_step

    assert tfpolicy.TFPolicy is TFPolicy is tf_policy.TFPolicy
    assert tfpolicy.time_step is time_step
    for name in ["TimeStep", "PolicyStep", "Trajectory", "StepType", "PolicyInfo"]:
        assert name in tfpolicy.__all__ and hasattr(tfpolicy, name)


def test_specs_does_not_import_tfpolicy_or_savers():
    import subprocess
    import sys

    code = ("import sys, specs; "
            "assert not any(m.split('.')[0] in ('tfpolicy', 'savers') for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_tfpolicy_does_not_load_the_learning_layer_or_tensorflow():
    import subprocess
    import sys

    code = ("import sys, tfpolicy; "
            "assert 'tfpolicy.learning' not in sys.modules and 'savers' not in sys.modules; "
            "assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_no_package_imports_another_packages_private_modules():
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[1]
    offences = []
    for package in ("specs", "tfpolicy", "savers"):
        for path in sorted((root / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                elif isinstance(node, ast.Import):
                    targets = [a.name for a in node.names]
                else:
                    continue
                for target in targets:
                    parts = target.split(".")
                    if parts[0] in ("specs", "tfpolicy", "savers") and parts[0] != package and any(
                            p.startswith("_") for p in parts[1:]):
                        offences.append(f"{path.relative_to(root)}: {target}")
    assert offences == []


def test_the_learning_layer_does_not_import_ray_or_pettingzoo():
    import subprocess
    import sys

    code = ("import sys, tfpolicy.evaluation, tfpolicy.algorithms.ppo, tfpolicy.algorithms.a3c, "
            "tfpolicy.examples; "
            "assert 'ray' not in sys.modules and 'pettingzoo' not in sys.modules, "
            "[m for m in sys.modules if m.split('.')[0] in ('ray', 'pettingzoo')]")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)
