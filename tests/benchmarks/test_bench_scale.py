"""The scale-out benchmark runs end to end on Ray (a quick run; its timings are not asserted)."""

import pytest

ray = pytest.importorskip("ray")


@pytest.fixture
def ray_left_as_found():
    """Whatever Ray session the benchmark starts is shut down afterwards, even on failure."""
    was_running = ray.is_initialized()
    yield was_running
    if ray.is_initialized() and not was_running:
        ray.shutdown()


def test_bench_scale_reports_sampling_sync_weights_and_time_to_solve(capsys, load_benchmark,
                                                                     ray_left_as_found):
    rows = load_benchmark("bench_scale").main(["--quick"])
    by_case = {row["case"]: row for row in rows}
    # Sampling: 8 envs x 128 steps per sample(); --quick asks for 1,024 env steps, which is
    # one local sample(), one round of 1 remote worker, one round of 2 (2 x 1,024). Phase 2
    # times the floor again beside 2 remote workers.
    sampling = [row for row in rows if row["section"] == "sampling"]
    floor = "local worker sample() (floor)"
    assert [(row["phase"], row["case"], row["steps_per_call"]) for row in sampling] == [
        (1, floor, 1024), (1, "raw env, random actions", 1024),
        (1, "parallel sample, 0 remote workers", 1024),
        (1, "parallel sample, 1 remote worker", 1024),
        (2, floor, 1024), (2, "parallel sample, 2 remote workers", 2048)]
    assert [row["ratio"] for row in sampling if row["case"] == floor] == pytest.approx([1, 1])
    assert all(row["steps_per_second"] > 0 for row in sampling)
    # sync_weights of the 2x256 policy and value towers (obs 4, 2 actions): 4*256+256 +
    # 256*256+256 + 256*2+2 = 67,586 and 4*256+256 + 256*256+256 + 256+1 = 67,329 float32s.
    sync = by_case["sync_weights, 2 remote workers"]
    assert sync["megabytes"] == pytest.approx((67_586 + 67_329) * 4 / 1e6)
    assert by_case["ray.get(ray.put(weights)) (floor)"]["ratio_put_get"] == pytest.approx(1.0)
    assert by_case["local set_weights (floor)"]["ratio_set_weights"] == pytest.approx(1.0)
    assert sync["milliseconds"] > 0
    # PPO capped at 2 iterations of 1,024 steps; --quick runs it without remote workers only.
    (train,) = [row for row in rows if row["section"] == "train"]
    assert train["case"] == "PPO to 475, num_workers=0"
    assert train["steps"] == 2048 and train["runs"] == 1 and train["ratio"] == 1.0
    assert "caveat: this machine has" in capsys.readouterr().out
    assert ray.is_initialized() == ray_left_as_found  # main shut down the Ray it started
