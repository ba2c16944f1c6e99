#!/usr/bin/env python3
"""Render and lint charts/stance with the real Helm engine, without a helm binary.

Uses the PyPI package helm-python-sdk (import name `helm_python`), which bundles Helm 4's Go
library (libhelm_c) and binds it with ctypes:

    pip install helm-python-sdk

Usage:
    hack/render-chart.py OUTDIR
        Renders every standard variant (VARIANTS below) and lints the chart with each variant's
        values; fails (exit 1) on a render error or any lint warning or error. Writes:
          OUTDIR/<variant>.yaml        every rendered object, a multi-document YAML
          OUTDIR/<variant>.NOTES.txt   the rendered NOTES.txt
          OUTDIR/crds/<file>           the CRDs as Helm loaded them from charts/stance/crds/
          OUTDIR/index.json            Helm versions, chart metadata, each variant's release name,
                                       namespace and values, and the lint reports
    hack/render-chart.py --only NAME [--values JSON] [--release R] [--namespace NS] OUTDIR
        Renders one rendering with the given values (validated against values.schema.json, as
        `helm install` does) into OUTDIR/NAME.yaml. Exit 1 with Helm's message on stderr when the
        values or the templates are refused: tests/chart.rs uses it to prove bad values fail.

tests/chart.rs runs this script and checks what it wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

CHART = Path(__file__).resolve().parent.parent / "charts" / "stance"

# The renderings the tests check: name -> (release name, namespace, values).
VARIANTS: dict[str, tuple[str, str, dict]] = {
    # Defaults: generated CA and certificate, ingest on, PolicyReports off, 2 replicas.
    "default": ("stance", "stance-system", {}),
    # cert-manager: selfSigned Issuer -> CA Certificate -> CA Issuer -> serving Certificate.
    "cert-manager": ("stance", "stance-system", {"certManager": {"enabled": True}}),
    # cert-manager with an existing ClusterIssuer: only the serving Certificate is created.
    "cert-manager-issuer": (
        "stance",
        "stance-system",
        {"certManager": {"enabled": True, "issuerRef": {"kind": "ClusterIssuer", "name": "corp-ca"}}},
    ),
    # Prometheus Operator objects.
    "monitoring": (
        "stance",
        "stance-system",
        {
            "serviceMonitor": {"enabled": True, "labels": {"release": "kube-prometheus-stack"}},
            "prometheusRule": {"enabled": True, "alertLabels": {"team": "platform"}},
        },
    ),
    # --policy-reports and its RBAC.
    "policy-reports": ("stance", "stance-system", {"policyReports": {"enabled": True}}),
    # --no-ingest: no TokenReview / SubjectAccessReview / ConfigMap writes, no uploader role.
    "no-ingest": ("stance", "stance-system", {"ingest": {"enabled": False}}),
    # Another release name and namespace, and most options changed.
    "custom": (
        "aspm",
        "security",
        {
            "image": {"digest": "sha256:" + "a" * 64},
            "policy": {
                "exemptNamespaces": ["kube-system", "monitoring"],
                "exceptionNamespaces": ["security", "appsec"],
                "maxExceptionDays": 30,
            },
            "webhook": {
                "failurePolicy": "Ignore",
                "timeoutSeconds": 10,
                "maxInFlight": 64,
                "objectSelectorOptOut": True,
                "matchConditions": {"enabled": True},
                "namespaceSelectorExpressions": [{"key": "stance", "operator": "NotIn", "values": ["off"]}],
                "clientCA": {"secretName": "apiserver-client-ca", "key": "client-ca.pem"},
            },
            "feeds": {
                "volume": {"configMap": {"name": "stance-feeds"}},
                "files": ["known_exploited_vulnerabilities.json", "epss_scores.csv.gz"],
            },
            "ingest": {"audience": "aspm-ingest", "trustedUploaders": ["system:serviceaccount:ci:scanner"]},
            "evidence": {"trustedReportNamespaces": ["ci-scans"], "maxDecompressedMiB": 32, "maxDocumentNodes": 2000000},
            "priorityClassName": "platform-critical",
            "networkPolicy": {
                "enabled": True,
                "webhookFrom": [{"ipBlock": {"cidr": "10.0.0.0/24"}}],
            },
            "podAntiAffinity": "hard",
            "replicaCount": 3,
            "history": {
                "enabled": True,
                "url": "postgres://stance@history.internal:5432/stance?sslmode=require",
                "clusterName": "prod-eu-1",
                "retentionDays": 180,
            },
            "remediation": {"days": "critical=15,high=30,medium=90,low=180", "internetDays": "critical=7", "kevDays": 7},
        },
    ),
    # One replica without leader election and without the webhook (operator only), recording
    # the history in SQLite on a PersistentVolumeClaim.
    "single": (
        "stance",
        "stance-system",
        {
            "replicaCount": 1,
            "leaderElection": {"enabled": False},
            "webhook": {"enabled": False},
            "history": {"enabled": True, "persistence": {"size": "5Gi", "storageClass": "fast-ssd"}},
        },
    ),
}

# Kubernetes version lint checks the chart against (Chart.yaml says >=1.21).
LINT_KUBE_VERSION = "v1.30.0"


def load_helm():
    try:
        import helm_python  # noqa: PLC0415
    except ImportError as e:
        sys.exit(
            f"render-chart.py: cannot import helm_python ({e}).\n"
            "Install the Helm library for Python: pip install helm-python-sdk"
        )
    return helm_python


def to_yaml(manifests: dict[str, str]) -> tuple[str, str]:
    """The rendered templates as one multi-document YAML (NOTES.txt apart), in template order."""
    docs = []
    notes = ""
    for path in sorted(manifests):
        text = manifests[path]
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        # Helm's own split: a template may hold several documents.
        for doc in text.split("\n---"):
            if doc.strip() and any(
                line.strip() and not line.lstrip().startswith("#") for line in doc.splitlines()
            ):
                docs.append(f"# Source: {path}\n{doc.strip()}\n")
    return "---\n".join(docs), notes


def render_one(helm, chart, name: str, release: str, namespace: str, values: dict, out: Path) -> None:
    manifests = chart.render(values, name=release, namespace=namespace, is_install=True)
    text, notes = to_yaml(manifests)
    (out / f"{name}.yaml").write_text(text)
    (out / f"{name}.NOTES.txt").write_text(notes)


def lint(helm, values: dict, namespace: str) -> dict:
    return helm.lint(str(CHART), values, strict=True, namespace=namespace, kube_version=LINT_KUBE_VERSION)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--only", help="render a single rendering with this name")
    ap.add_argument("--values", default="{}", help="values of --only, as JSON")
    ap.add_argument("--release", default="stance", help="release name of --only")
    ap.add_argument("--namespace", default="stance-system", help="namespace of --only")
    args = ap.parse_args()

    helm = load_helm()
    args.outdir.mkdir(parents=True, exist_ok=True)
    chart = helm.Chart.load(str(CHART))
    try:
        if args.only:
            values = json.loads(args.values)
            try:
                render_one(helm, chart, args.only, args.release, args.namespace, values, args.outdir)
            except helm.HelmError as e:
                print(f"{type(e).__name__}: {e}", file=sys.stderr)
                return 1
            return 0

        index = {
            "helm_c": helm.helm_c_version(),
            "helm_sdk": helm.helm_sdk_version(),
            "chart": chart.metadata,
            "variants": {},
            "lint": {},
            "crds": [],
        }
        failures = []
        for name, (release, namespace, values) in VARIANTS.items():
            try:
                render_one(helm, chart, name, release, namespace, values, args.outdir)
            except helm.HelmError as e:
                failures.append(f"render {name}: {type(e).__name__}: {e}")
                continue
            index["variants"][name] = {"release": release, "namespace": namespace, "values": values}
            report = lint(helm, values, namespace)
            index["lint"][name] = report
            for m in report.get("messages", []):
                # 1 = info (e.g. "icon is recommended"), 2 = warning, 3 = error.
                if m.get("severity", 0) >= 2:
                    failures.append(f"lint {name}: {m.get('path')}: {m.get('error')}")
            for e in report.get("errors", []):
                msg = f"lint {name}: {e}"
                if msg not in failures and not any(e.strip() in f for f in failures):
                    failures.append(msg)

        crd_dir = args.outdir / "crds"
        if crd_dir.exists():
            shutil.rmtree(crd_dir)
        crd_dir.mkdir()
        for crd in chart.crds:
            filename = os.path.basename(crd["filename"])
            (crd_dir / filename).write_text(crd["data"])
            index["crds"].append({"name": crd["name"], "filename": filename})

        (args.outdir / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True))
        if failures:
            print("render-chart.py: the chart does not render or lint cleanly:", file=sys.stderr)
            for f in failures:
                print(f"  - {f}", file=sys.stderr)
            return 1
        print(
            f"rendered {len(index['variants'])} variants of {chart.name} {chart.version} with Helm "
            f"{index['helm_sdk']} (helm-c {index['helm_c']}) into {args.outdir}"
        )
        return 0
    finally:
        chart.close()


if __name__ == "__main__":
    sys.exit(main())
