"""The circuit breaker's state machine, on a fake clock."""

from __future__ import annotations

from gateway.http import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_opens_after_consecutive_failures_and_probes_once() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=3, reset=10, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert breaker.state == "closed" and breaker.allow()
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now = 10
    assert breaker.state == "half_open"
    assert breaker.allow() and not breaker.allow()  # exactly one probe
    breaker.failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now = 20
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed" and breaker.allow() and breaker.allow()


def test_breaker_success_resets_the_count() -> None:
    breaker = CircuitBreaker(failures=2, reset=1, clock=Clock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert breaker.state == "closed"


def test_breaker_release_frees_the_probe_without_judging() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failures=1, reset=5, clock=clock)
    breaker.failure()
    clock.now = 5
    assert breaker.allow()
    breaker.release()
    assert breaker.state == "half_open" and breaker.allow()
