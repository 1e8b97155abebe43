"""The action benchmark runs end to end (a short run; its timings are not asserted)."""


def test_bench_action_reports_every_case_with_a_ratio(capsys, load_benchmark):
    rows = load_benchmark("bench_action").main(["--rounds", "1", "--calls", "3"])
    names = [row["case"] for row in rows]
    assert names[:2] == ["floor, batch 1", "floor, batch 1024"]
    assert {"tf.function action, batch 1", "tf.function action, batch 1024",
            "PyTFEagerPolicy, numpy, unbatched", "eager action, batch 1",
            "eager action, run_eagerly, batch 1",
            "LiteRT floor, batch 1", "LitePyPolicy, numpy, unbatched",
            "LitePyPolicy, numpy, batch 64"} <= set(names)
    lite = next(row for row in rows if row["case"] == "LitePyPolicy, numpy, unbatched")
    assert (lite["target"], lite["max_us"]) == (3.0, 20.0)
    eager = next(row for row in rows if row["case"] == "eager action, batch 1")
    assert eager["target"] == 1.5
    assert all(row["ratio"] > 0 for row in rows)
    assert rows[0]["ratio"] == 1.0
    out = capsys.readouterr().out
    assert "x floor" in out and "graph ops: floor" in out
