"""tfpolicy.evaluation.ray_session: which `ray.init` call each setting makes (Ray itself is
replaced by a recorder here; the real session is tested in test_ray.py)."""

import sys
import types

import pytest

from tfpolicy.evaluation import ray_session


@pytest.fixture
def fake_ray(monkeypatch):
    calls = []
    module = types.SimpleNamespace(is_initialized=lambda: bool(calls),
                                   init=lambda **kwargs: calls.append(kwargs))
    monkeypatch.setitem(sys.modules, "ray", module)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return calls


def test_by_default_a_local_ray_starts_in_process_without_the_dashboard(fake_ray):
    ray_session.init_ray(num_cpus=3)
    assert fake_ray == [{"num_cpus": 3, "include_dashboard": False, "log_to_driver": True}]


def test_an_address_joins_that_cluster(fake_ray):
    ray_session.init_ray(address="auto", num_cpus=3)
    assert fake_ray == [{"address": "auto", "log_to_driver": True}]


def test_ray_address_in_the_environment_acts_as_the_address(fake_ray, monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    ray_session.init_ray()
    assert fake_ray == [{"address": "ray://head:10001", "log_to_driver": True}]


def test_a_running_session_is_used_as_it_is(fake_ray):
    ray_session.init_ray(num_cpus=1)
    ray_session.init_ray(address="auto")
    assert len(fake_ray) == 1


@pytest.mark.parametrize("num_cpus", [0, -1, 1.5, True])
def test_num_cpus_must_be_a_positive_int(fake_ray, num_cpus):
    with pytest.raises(ValueError) as info:
        ray_session.init_ray(num_cpus=num_cpus)
    assert str(info.value) == f"init_ray: num_cpus must be an int in [1, inf), got {num_cpus!r}"
    assert fake_ray == []


def test_without_ray_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(ImportError) as info:
        ray_session.require_ray("remote workers")
    assert str(info.value) == ('remote workers run on Ray, which is not installed: '
                               'pip install "tfpolicy[ray]"')
