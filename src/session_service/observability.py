"""Structured logs and EMF metrics, and the helpers that keep personal data out of them.

Logs are JSON lines from the Powertools Logger; they never carry a token, an email or a full IP
address (:func:`truncate_ip`), and connection ids appear hashed (:func:`hash_id`). Metrics are
CloudWatch EMF in namespace ``SessionManagement`` with exactly ``constants.metric_dimensions``.
"""

from __future__ import annotations

import hashlib
import ipaddress

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from session_service import constants as c

logger = Logger(service=c.SERVICE_NAME)


def hash_id(value: str) -> str:
    """A short stable digest of an identifier, for correlating log lines without the id."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def truncate_ip(value: str) -> str:
    """The network part of an address: /24 for IPv4, /48 for IPv6; ``invalid`` otherwise."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return "invalid"
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


class Telemetry:
    """The metrics of one handler: every value carries the same two dimensions."""

    def __init__(self, environment: str) -> None:
        self._metrics = Metrics(namespace=c.METRICS_NAMESPACE, service=c.SERVICE_NAME)
        dimensions = c.metric_dimensions(environment)
        dimensions.pop(c.DIMENSION_SERVICE)  # Powertools adds ``service`` from service=
        self._metrics.set_default_dimensions(**dimensions)
        self._pending = False

    def count(self, name: str, value: int = 1) -> None:
        self._add(name, MetricUnit.Count, value)

    def gauge(self, name: str, value: int) -> None:
        self._add(name, MetricUnit.Count, value)

    def latency(self, name: str, milliseconds: float) -> None:
        self._add(name, MetricUnit.Milliseconds, milliseconds)

    def _add(self, name: str, unit: MetricUnit, value: float) -> None:
        self._metrics.add_metric(name=name, unit=unit, value=value)
        self._pending = True

    def flush(self) -> None:
        """Write the collected metrics as one EMF line (nothing when none were added)."""
        if self._pending:
            self._pending = False
            self._metrics.flush_metrics(raise_on_empty_metrics=False)
