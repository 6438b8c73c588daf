from __future__ import annotations

import pytest

from services.demo.ports import PortError, Ports


def test_ports_come_from_the_variables_the_services_read() -> None:
    ports = Ports.from_env({"KAFKA_PORT": "19092", "INGEST_HTTP_PORT": "18080"})
    assert (ports.kafka, ports.http, ports.smtp) == (19092, 18080, 2525)
    assert ports.service_env()["INGEST_HTTP_PORT"] == "18080"
    assert ports.service_env()["SLA_METRICS_PORT"] == "9103"


def test_a_port_that_is_not_a_number_is_named() -> None:
    with pytest.raises(PortError, match="ROUTER_METRICS_PORT must be a port number, got 'x'"):
        Ports.from_env({"ROUTER_METRICS_PORT": "x"})
