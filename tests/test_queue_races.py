"""Races against real Redis: concurrent moderators never get the same comment or both decide it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import redis

from service.storage.queue import ReviewQueue

from .test_api_review import make_comment


def queue_for(redis_server) -> ReviewQueue:
    """A queue on its own connection, as another instance would have."""
    return ReviewQueue(redis.Redis.from_url(redis_server.url, decode_responses=True))


def test_concurrent_claims_get_disjoint_sets_covering_the_queue(redis_server, redis_client):
    ids = {make_comment(redis_client, 0.3 + (i % 40) / 100) for i in range(200)}
    # Four moderators claim 7 at a time, all four at once in every round (a barrier before each claim), until
    # the queue is empty: a thread that happened to start first cannot take the whole queue alone.
    rounds = 200 // (4 * 7) + 2
    barrier = threading.Barrier(4)

    def claim_all(name: str) -> list[list[str]]:
        queue = queue_for(redis_server)
        batches = []
        for _ in range(rounds):
            barrier.wait()
            batches.append(queue.claim(name, 7))
        return batches

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(claim_all, ["awa", "binta", "coumba", "dior"]))
    claimed = [i for batches in results for batch in batches for i in batch]
    assert len(claimed) == len(set(claimed)) == 200
    assert set(claimed) == ids
    assert all(len(batches[0]) == 7 for batches in results)  # the first round raced four claims for 28 of 200
    assert all(not batches[-1] for batches in results)  # and the queue ran out before the last


def test_fifty_concurrent_decisions_on_one_comment_have_exactly_one_winner(redis_server, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    barrier = threading.Barrier(50)

    def decide(n: int) -> bool:
        queue = queue_for(redis_server)
        barrier.wait()
        return queue.decide(comment_id, f"moderator{n}", "approved" if n % 2 else "rejected").ok

    with ThreadPoolExecutor(50) as pool:
        outcomes = list(pool.map(decide, range(50)))
    assert outcomes.count(True) == 1
    record = redis_client.hgetall(f"mod:comment:{comment_id}")
    winner = outcomes.index(True)
    assert record["decided_by"] == f"moderator{winner}"
    assert redis_client.llen(f"mod:comment:{comment_id}:history") == 2  # created + one decision


def test_expired_lease_is_taken_over_at_a_later_time(redis_server, redis_client):
    comment_id = make_comment(redis_client, 0.5)
    queue = queue_for(redis_server)
    assert queue.claim("awa", 1, at_ms=1_000_000) == [comment_id]
    assert queue.claim("binta", 1, at_ms=1_000_000 + queue.lease_ms - 1) == []
    assert queue.claim("binta", 1, at_ms=1_000_000 + queue.lease_ms) == [comment_id]
    assert not queue.decide(comment_id, "awa", "approved", at_ms=1_000_000 + queue.lease_ms + 1).ok
    assert queue.decide(comment_id, "binta", "approved", at_ms=1_000_000 + queue.lease_ms + 1).ok
