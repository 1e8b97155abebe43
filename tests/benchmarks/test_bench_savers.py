"""The savers benchmark runs end to end (a short run; its timings are not asserted)."""


def test_bench_savers_reports_latency_ratios_and_export_times(capsys, load_benchmark):
    bench = load_benchmark("bench_savers")
    rows = {row["case"]: row for row in bench.main(["--quick"])}
    floor = "in-process PyTFEagerPolicy, unbatched"
    served = "SavedModelPyTFEagerPolicy, unbatched"
    assert rows[floor]["ratio"] == 1.0 and rows[floor]["unit"] == "us"
    assert rows[served]["versus"] == floor and rows[served]["target"] == 1.2
    assert rows[served]["ratio"] > 0
    assert rows[f"SavedModelPyTFEagerPolicy, batch {bench.BATCH}"]["ratio"] > 0
    export = rows["export"]
    assert export["unit"] == "s" and export["value"] > 0 and export["target"] == 1.0
    assert export["ratio"] == export["value"] / bench.TF_AGENTS_REFERENCE["export"]
    assert {"export, first in process", "save_checkpoint", "load",
            "update_from_checkpoint"} <= set(rows)
    assert all(row["value"] > 0 for row in rows.values())
    out = capsys.readouterr().out
    assert "x floor" in out and "x TF-Agents" in out
