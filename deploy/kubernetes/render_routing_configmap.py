"""Write routing-configmap.yaml from a routing config file (default: the example config).

    python deploy/kubernetes/render_routing_configmap.py [path/to/routing.yaml]

The ConfigMap carries the file verbatim as `routing.yaml`; the setup Job publishes it.
tests/e2e/test_deploy_files.py holds the committed ConfigMap to the example config.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "config" / "routing.example.yaml"
HEADER = """\
# The routing config every instance converges on, published by setup-job.yaml. Generated from
# deploy/config/routing.example.yaml by render_routing_configmap.py: edit the source file (or
# your own copy), re-render, `kubectl apply -k deploy/kubernetes`, then re-run the setup Job.
apiVersion: v1
kind: ConfigMap
metadata:
  name: leadrouter-routing
  namespace: leadrouter
  labels:
    app.kubernetes.io/part-of: leadrouter
data:
  routing.yaml: |
"""


def render(source: Path) -> str:
    text = source.read_text()
    if not text.endswith("\n") or text.endswith("\n\n"):
        text = text.rstrip("\n") + "\n"  # a literal block keeps exactly one final newline
    body = "".join(f"    {line}" if line.strip() else "\n" for line in text.splitlines(True))
    return HEADER + body


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLE
    (HERE / "routing-configmap.yaml").write_text(render(source))
