"""deploy/ checked with what runs offline here: Kubernetes and compose schemas, promtool, and
cross-checks against the code (topics, metric names, the routing config)."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from prometheus_client import CollectorRegistry

from services.leads.topics import CO_PARTITIONED_INPUTS, STATE_TOPICS, topic_specs

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
KUBERNETES_VERSION = "1.30.0"
METRICS_MODULES = (
    "services.streaming.metrics",
    "services.ingest.metrics",
    "services.router.metrics",
    "services.sla_watcher.metrics",
    "services.notifier.metrics",
    "services.console.web_metrics",
)


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def manifests() -> list[Path]:
    kustomization = yaml.safe_load((KUBERNETES / "kustomization.yaml").read_text())
    return [KUBERNETES / name for name in kustomization["resources"]]


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: `make test` installs it (Debian's prometheus)")
    return found


@pytest.mark.parametrize("path", manifests(), ids=lambda p: p.name)
def test_kubernetes_manifests_pass_strict_schema_validation(path: Path) -> None:
    for document in documents(path):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize(
    ("name", "slot_variable"),
    [("router.yaml", "INSTANCE"), ("sla-watcher.yaml", "INSTANCE"),
     ("ingest-raw.yaml", "INGEST_RAW_INSTANCE"), ("console.yaml", "CONSOLE_INSTANCE")],
)  # fmt: skip
def test_every_transactional_process_gets_its_own_stable_slot_and_probes(
    name: str, slot_variable: str
) -> None:
    workload = next(d for d in documents(KUBERNETES / name) if d["kind"] == "StatefulSet")
    container = workload["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    path = env[slot_variable]["valueFrom"]["fieldRef"]["fieldPath"]
    assert path == "metadata.labels['apps.kubernetes.io/pod-index']"
    if slot_variable == "INSTANCE":
        assert container["command"][-2:] == ["--instance", "$(INSTANCE)"]
    assert container["livenessProbe"] and container["readinessProbe"]
    assert container["resources"]["requests"]


def test_scaled_out_ingest_replicas_leave_the_raw_door_to_its_statefulset() -> None:
    workload = next(d for d in documents(KUBERNETES / "ingest.yaml") if d["kind"] == "Deployment")
    assert "--no-raw" in workload["spec"]["template"]["spec"]["containers"][0]["command"]


def test_compose_file_matches_the_compose_specification() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(DEPLOY / "compose.yaml")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def compose_cli() -> list[str]:
    """A compose CLI that parses files without a Docker engine: the plugin, else v1."""
    plugin = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, check=False
    ) if shutil.which("docker") else None  # fmt: skip
    if plugin is not None and plugin.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("no compose CLI: `make test` installs Debian's docker-compose")


def test_compose_cli_resolves_the_stack_offline() -> None:
    result = subprocess.run(
        [*compose_cli(), "-p", "leadrouter", "-f", str(DEPLOY / "compose.yaml"), "config"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert set(services) == {
        "kafka", "kafka-init", "ingest", "router", "sla-watcher", "notifier", "console",
        "prometheus", "grafana",
    }  # fmt: skip
    assert services["router"]["command"][-2:] == ["--instance", "0"]
    assert services["ingest"]["environment"]["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"


def test_dockerfile_parses_and_copies_only_what_the_repository_has() -> None:
    import dockerfile

    instructions = dockerfile.parse_file(str(DEPLOY / "Dockerfile"))
    for copy in (i for i in instructions if i.cmd == "COPY" and not i.flags):
        for source in copy.value[:-1]:
            assert (REPO / source).exists(), f"COPY {source}: not in the build context"
    users = [i.value[0] for i in instructions if i.cmd == "USER"]
    assert users and users[-1] not in ("root", "0")
    exposed = {port for i in instructions if i.cmd == "EXPOSE" for port in i.value}
    assert {"8080", "2525", "9101", "9102", "9103"} <= exposed


def test_deployments_only_run_commands_the_package_installs() -> None:
    scripts = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"])
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    ours = [s for s in compose.values() if s.get("image") == "leadrouter:local"]
    commands = [s["command"][0] for s in ours if isinstance(s.get("command"), list)]
    for path in manifests():
        for document in documents(path):
            spec = document.get("spec", {})
            pod = spec.get("template", {}).get("spec", {})
            commands += [c["command"][0] for c in pod.get("containers", ()) if "command" in c]
    assert commands
    assert set(commands) - {"sh"} <= scripts, set(commands) - {"sh"} - scripts


def test_strimzi_topics_are_exactly_the_topics_the_code_declares() -> None:
    topics = {
        d["spec"]["topicName"]: d["spec"] for d in documents(KUBERNETES / "strimzi" / "topics.yaml")
    }
    specs = {s.name: s for s in topic_specs()}
    assert sorted(topics) == sorted(specs)
    for name, spec in specs.items():
        policy = topics[name]["config"]["cleanup.policy"]
        assert policy == ("compact" if spec.compacted else "delete"), name
        if spec.single_partition:
            assert topics[name]["partitions"] == 1, name
    pairs = [*STATE_TOPICS.items(), *CO_PARTITIONED_INPUTS]
    for left, right in pairs:
        assert topics[left]["partitions"] == topics[right]["partitions"], (left, right)


def test_alert_rules_and_scrape_config_pass_promtool() -> None:
    for command in (
        ["check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")],
        ["check", "config", str(DEPLOY / "prometheus" / "prometheus.yml")],
        ["test", "rules", str(DEPLOY / "prometheus" / "alerts.test.yml")],
    ):
        result = subprocess.run([promtool(), *command], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr


def exported_series() -> set[str]:
    """Every series name the services' metrics classes register (suffixes included)."""
    registry = CollectorRegistry()
    for module_name in METRICS_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            create = getattr(value, "create", None)
            if isinstance(value, type) and value.__module__ == module_name and callable(create):
                create(registry)
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    names = set()
    for family in registry.collect():
        for suffix in suffixes.get(family.type, ("",)):
            names.add(family.name + suffix)
    return names


def referenced_series(text: str) -> set[str]:
    return set(re.findall(r"\bleadrouter_[a-z0-9_]+", text))


def test_alerts_and_dashboard_only_query_metrics_the_services_export() -> None:
    exported = exported_series()
    alerts = (DEPLOY / "prometheus" / "alerts.yml").read_text()
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "leadrouter.json").read_text())
    expressions = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", ())] + [
        v["definition"] for v in dashboard["templating"]["list"]
    ]
    unknown = (referenced_series(alerts) | referenced_series("\n".join(expressions))) - exported
    assert not unknown, f"not exported by any service: {sorted(unknown)}"


def test_every_alert_has_a_runbook_section() -> None:
    runbook = (REPO / "docs" / "operations.md").read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", runbook, flags=re.M)
    }
    for group in yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]:
        for rule in group["rules"]:
            anchor = rule["annotations"]["runbook"].split("#", 1)[1]
            assert anchor in headings, rule["alert"]


def test_kubernetes_routing_configmap_carries_the_example_config() -> None:
    configmap = documents(KUBERNETES / "routing-configmap.yaml")[0]
    example = (DEPLOY / "config" / "routing.example.yaml").read_text()
    assert configmap["data"]["routing.yaml"] == example, (
        "stale: run python deploy/kubernetes/render_routing_configmap.py"
    )


@pytest.mark.parametrize("name", ["routing.demo.yaml", "routing.example.yaml"])
def test_shipped_routing_configs_are_valid(name: str) -> None:
    from services.router.config_document import parse_config_text

    config = parse_config_text((DEPLOY / "config" / name).read_text())
    assert config.reps and config.pools
