"""The benchmarks' own arithmetic: rounds that turn their order, ratios taken per round."""

import pytest

from bench.harness import alternate, paired_ratio


def test_alternate_turns_the_order_every_round_and_keeps_each_round_s_runs_in_order():
    calls, speeds = [], {"ours": iter([90, 50, 80]), "ceiling": iter([100, 100, 100])}

    def side(name):
        def measure(seconds):
            calls.append((name, seconds))
            return {"rps": 1 if seconds else next(speeds[name]), "p99": 1.0, "non_2xx": 0}

        return measure

    figures = alternate({"ours": side("ours"), "ceiling": side("ceiling")}, runs=3, warmup=0.5)

    assert [name for name, seconds in calls if seconds is None] == [
        "ours",
        "ceiling",
        "ceiling",
        "ours",
        "ours",
        "ceiling",
    ]
    assert figures["ours"]["rps_runs"] == [90, 50, 80]
    assert figures["ours"]["rps"] == 80


def test_the_paired_ratio_is_the_median_of_each_round_s_ratio():
    # Round two was slow for both sides (a busy neighbour) and round three fast for the
    # ceiling alone: the rounds say 0.9, 0.9, 0.8, the sides' medians 88 / 100.
    figures = {
        "ours": {"rps_runs": [90.0, 45.0, 88.0]},
        "ceiling": {"rps_runs": [100.0, 50.0, 110.0]},
    }
    assert paired_ratio(figures, "ours", "ceiling") == pytest.approx(0.9)
    figures["ceiling"]["rps_runs"] = [100.0, 100.0]
    with pytest.raises(ValueError):
        paired_ratio(figures, "ours", "ceiling")
