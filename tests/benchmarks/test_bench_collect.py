"""The collection benchmark runs end to end (a short run; its timings are not asserted)."""


def test_bench_collect_reports_every_width_and_replay_case(capsys, load_benchmark):
    rows = load_benchmark("bench_collect").main(["--rounds", "1", "--steps", "64", "--adds", "4"])
    names = [row["case"] for row in rows]
    for width in (1, 8, 64):
        assert f"PyDriver + PyTFEagerPolicy, {width} env(s)" in names
        assert f"raw env + raw policy, {width} env(s)" in names
        assert f"raw env + random, {width} env(s)" in names
        assert f"PyDriver + LitePyPolicy, {width} env(s)" in names
        assert f"raw env + raw LiteRT, {width} env(s)" in names
    assert {"add_batch, numpy, batch 1", "add_batch, numpy, batch 64",
            "as_dataset(64, num_steps=2)"} <= set(names)
    driver_rows = [row for row in rows if row["case"].startswith("PyDriver")]
    assert [row["reference"] for row in driver_rows] == [2720, 13773, 37903] * 2
    assert all(row["per_second"] > 0 for row in rows)
    assert all(row["ratio"] > 0 for row in rows if row["ratio"] is not None)
    out = capsys.readouterr().out
    assert "x floor" in out and "RLlib" in out
