#!/usr/bin/env python3
"""Regenerates the demo's derived reports from the real third-party fixtures.

Run from the repository root: python3 examples/demo/derive.py
The fixtures live in ../shared/fixtures (see its SOURCES.md); this script only renames
objects and relabels them to the demo's workloads. Findings, versions, scores and
timestamps are left exactly as the scanners wrote them.
"""
import copy, json, os, sys

FIX = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "fixtures")
OUT = os.path.dirname(__file__)

def load(rel):
    with open(os.path.join(FIX, rel)) as f:
        return json.load(f)

def relabel(cr, namespace, replicaset, container=None):
    """Points a Trivy Operator report at a demo ReplicaSet, as the operator names it."""
    cr = copy.deepcopy(cr)
    md = cr["metadata"]
    for k in ("uid", "resourceVersion", "generation"):
        md.pop(k, None)
    md["namespace"] = namespace
    md["name"] = f"replicaset-{replicaset}" + (f"-{container}" if container else "")
    md["labels"]["trivy-operator.resource.name"] = replicaset
    md["labels"]["trivy-operator.resource.namespace"] = namespace
    for o in md.get("ownerReferences", []):
        o["name"] = replicaset
        o.pop("uid", None)
    return cr

def write_json(rel, docs):
    path = os.path.join(OUT, rel)
    with open(path, "w") as f:
        json.dump(docs, f, indent=2)
        f.write("\n")
    print("wrote", path)

vuln = load("defectdojo/trivy_operator/vulnerabilityreport_many.json")
write_json("reports/trivy-operator/vulnerabilityreports.json", {
    "apiVersion": "v1", "kind": "List",
    "items": [
        relabel(vuln, "shop", "storefront-965685897", "nginx"),
        # Trivy Operator writes one report per ReplicaSet: the same image in another app.
        relabel(vuln, "analytics", "report-renderer-7c5b9d4f6d", "nginx"),
    ],
})
dicts = load("defectdojo/trivy_operator/all_reports_in_dict.json")
audit = dicts["configauditreports.aquasecurity.github.io"][0]
write_json("reports/trivy-operator/configauditreports.json", {
    "apiVersion": "v1", "kind": "List",
    "items": [relabel(audit, "shop", "storefront-965685897")],
})
# Cluster-scoped SBOM of nginx:1.14.2 (the legacy admin UI's image), verbatim.
with open(os.path.join(FIX, "trivy-operator/00-sbom-pod.yaml")) as f, \
     open(os.path.join(OUT, "reports/trivy-operator/clustersbomreport-nginx-1.14.2.yaml"), "w") as o:
    o.write(f.read())
# CI scans (Trivy JSON), verbatim.
for src, dst in [("trivy/spring4shell-jre11.json.golden", "payments-api.trivy.json"),
                 ("trivy/alpine-310.json.golden", "catalog.trivy.json"),
                 ("trivy/debian-stretch.json.golden", "nightly-report.trivy.json"),
                 ("secobserve/zap/owasp_zap.json", "storefront.zap.json")]:
    write_json(f"reports/ci/{dst}", load(src))
# SAST of the storefront repository, as CI uploads it: a ConfigMap attributed to the app.
with open(os.path.join(FIX, "secobserve/sarif/semgrep.sarif")) as f:
    sarif = f.read()
write_json("reports/ci/storefront-semgrep.configmap.json", {
    "apiVersion": "v1", "kind": "ConfigMap",
    "metadata": {"name": "storefront-semgrep", "namespace": "shop",
                 "labels": {"aspm.stance.dev/report": "sarif"},
                 "annotations": {"aspm.stance.dev/app": "storefront"}},
    "data": {"semgrep.sarif": sarif},
})
# KEV: the real catalog's entries for the CVEs this demo's reports mention.
kev = load("kev/known_exploited_vulnerabilities.json")
mentioned = set()
for root, _, files in os.walk(os.path.join(OUT, "reports")):
    for name in files:
        with open(os.path.join(root, name)) as f:
            text = f.read()
        mentioned.update(v["cveID"] for v in kev["vulnerabilities"] if v["cveID"] in text)
mentioned.add("CVE-2021-44228")
subset = [v for v in kev["vulnerabilities"] if v["cveID"] in mentioned]
write_json("feeds/known_exploited_vulnerabilities.json",
           {**{k: kev[k] for k in ("title", "catalogVersion", "dateReleased")}, "count": len(subset), "vulnerabilities": subset})
