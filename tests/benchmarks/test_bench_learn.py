"""The learning benchmark runs end to end (a short run; its timings are not asserted)."""


def test_bench_learn_reports_the_ratios_and_the_state_times(capsys, load_benchmark):
    rows = {row["case"]: row for row in load_benchmark("bench_learn").main(["--quick"])}
    learn = next(row for name, row in rows.items() if name.startswith("learn_on_batch"))
    assert learn["target"] == 1.2 and learn["ratio"] > 0
    single = rows["compute_single_action, unbatched"]
    assert single["target"] == 1.3 and single["ratio"] > 0
    assert {"get_weights", "set_weights", "export_checkpoint",
            "Policy.from_checkpoint"} <= set(rows)
    assert all(row["value"] > 0 for row in rows.values())
    assert "x floor" in capsys.readouterr().out
