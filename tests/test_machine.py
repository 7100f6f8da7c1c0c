"""The machine record: its key changes with what changes the sums, and a moved run pairs with none."""

from prune_ready import machine


def test_key_names_what_changes_the_sums_only():
    record = machine.describe(threads=2)
    assert record["threads"] == 2 and record["key"] == machine.key(record)
    assert machine.key({**record, "host": "elsewhere", "started": "later"}) == record["key"]
    assert machine.key({**record, "threads": 1}) != record["key"]
    assert machine.key({**record, "cpu_id": "GenuineIntel/6/143/8"}) != record["key"]


def test_a_run_resumed_on_another_machine_is_mixed():
    a, b = {"key": "aaaa"}, {"key": "bbbb"}
    assert machine.run_key([]) == ""
    assert machine.run_key([a, a]) == "aaaa"
    assert machine.run_key([a, b, a]) == "mixed:aaaa+bbbb"
