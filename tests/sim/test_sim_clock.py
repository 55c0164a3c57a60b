from mipsniff.sim.clock import EPOCH_NS, EventQueue, epoch_seconds


def test_events_run_in_time_order_and_ties_in_insertion_order():
    q = EventQueue()
    seen: list[str] = []
    q.schedule(EPOCH_NS + 20, seen.append, "c")
    q.schedule(EPOCH_NS + 10, seen.append, "a")
    q.schedule(EPOCH_NS + 10, seen.append, "b")
    q.run(EPOCH_NS + 15)
    assert seen == ["a", "b"]
    assert q.now_ns == EPOCH_NS + 15
    q.run(EPOCH_NS + 100)
    assert seen == ["a", "b", "c"]


def test_cancelled_timer_does_not_fire():
    q = EventQueue()
    seen: list[int] = []
    t = q.after(5, seen.append, 1)
    t.cancel()
    q.run(EPOCH_NS + 10)
    assert seen == []


def test_epoch_is_2008_05_01_noon_utc_and_seconds_floor_to_the_microsecond():
    import datetime

    assert datetime.datetime.fromtimestamp(EPOCH_NS // 10**9, datetime.UTC).isoformat() == "2008-05-01T12:00:00+00:00"
    assert epoch_seconds(EPOCH_NS + 1_999) == 1209643200.000001
