"""The training benchmark runs end to end (a short run; its timings are not asserted)."""


def test_bench_train_reports_time_steps_and_the_sb3_ratio(capsys, load_benchmark):
    rows = load_benchmark("bench_train").main(["--cases", "PG", "--seeds", "0", "--no-sb3",
                                               "--max-steps", "400"])
    (row,) = rows
    assert row["case"] == "PG" and row["steps"] >= 400 and row["seconds"] > 0
    assert row["solved"] == 0  # 400 steps are far too few for 475
    assert "ours seed 0" in capsys.readouterr().out
