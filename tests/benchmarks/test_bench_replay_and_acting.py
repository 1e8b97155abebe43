"""The replay and acting benchmarks run end to end (short runs; timings not asserted)."""


def test_bench_replay_reports_every_case(capsys, load_benchmark):
    rows = load_benchmark("bench_replay").main(["--quick"])
    assert rows and all(row["value"] > 0 for row in rows if "value" in row)
    assert "floor" in capsys.readouterr().out


def test_bench_acting_reports_every_case(capsys, load_benchmark):
    rows = load_benchmark("bench_acting").main(["--quick"])
    assert rows and any("compute_single_action" in str(row.get("case")) for row in rows)
    assert "floor" in capsys.readouterr().out
