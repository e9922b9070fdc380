"""Prometheus metrics on an opt-in port (BACKCHAIN_METRICS_PORT); nothing is served otherwise."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The bot's counters; always safe to call, exported only once `serve` has run."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.updates = Counter(
            "backchain_updates", "Updates handled, by kind", ["kind"], registry=self.registry
        )
        self.latency = Histogram(
            "backchain_reply_latency_seconds",
            "Time from receiving an update to its handler finishing",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter(
            "backchain_errors", "Errors, by kind", ["kind"], registry=self.registry
        )
        self.red_flags = Counter(
            "backchain_red_flags", "Red-flag replies, by level", ["level"], registry=self.registry
        )
        self.reminders = Counter(
            "backchain_reminders", "Reminder sends, by result", ["result"], registry=self.registry
        )
        self.send_queue = Gauge(
            "backchain_send_queue_length",
            "Bot API calls waiting for the send budget",
            registry=self.registry,
        )
        self.send_retries = Counter(
            "backchain_send_retries",
            "Bot API calls made again, by cause",
            ["method", "cause"],
            registry=self.registry,
        )

    def serve(self, port: int, address: str = "127.0.0.1") -> None:
        start_http_server(port, addr=address, registry=self.registry)
        logger.info("metrics on http://%s:%d/metrics", address, port)
