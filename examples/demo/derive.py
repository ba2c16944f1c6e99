#!/usr/bin/env python3
"""Regenerates the demo's derived files from the real third-party fixtures.

Run from anywhere: python3 examples/demo/derive.py [--out DIR]  (needs ../shared/fixtures
beside the repository; Python 3 with PyYAML). It rewrites the files in place, or under DIR.
The output is deterministic: tests/demo_cluster.rs regenerates it and compares.

Every report is written as the Kubernetes object a real cluster would hold — so that
`stance scan examples/demo` (offline) and `hack/demo-cluster.sh up` (a live API server) read
the same objects:
- Trivy Operator reports are what Trivy Operator writes, as its CRDs
  (../shared/fixtures/crds/trivy-operator) store them: the scan results are the fixtures'
  (findings, versions, scores, timestamps unchanged), re-pointed at the demo's workloads, with
  the fields today's Trivy Operator always writes filled in the way it fills them, and
  anything the CRD's schema does not hold dropped (the API server prunes it). The owner's
  `uid` is left out: it exists only once the owner does, so the loader fills it
  (hack/demo-objects.py), as Trivy Operator's own envtest fixtures do.
- CI scans (Trivy JSON, ZAP, SARIF) are ConfigMaps labelled `aspm.stance.dev/report` and
  attributed to their AppPosture or Asset: how a pipeline publishes them to the cluster
  (`kubectl apply`, or Stance's `POST /ingest`, which stores the same kind of ConfigMap).
See examples/demo/README.md for what each file is and where it comes from.
"""
import argparse
import copy
import json
import os

import yaml  # PyYAML: the CRDs and one fixture are YAML

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "..", "shared", "fixtures")
CRDS = os.path.join(FIX, "crds", "trivy-operator")

# The ReplicaSets the demo's Deployments get on the local API server (hack/local-cluster.sh,
# Kubernetes 1.20): Trivy Operator names its reports after them. The name is
# `<deployment>-<pod-template-hash>`; another Kubernetes version may hash the same template
# differently, so the loader re-points reports at whatever ReplicaSet the Deployment has.
STOREFRONT_RS = "storefront-784f9d9895"
RENDERER_RS = "report-renderer-5d6758b958"


def fixture_text(rel):
    with open(os.path.join(FIX, rel), encoding="utf-8") as f:
        return f.read()


def fixture(rel):
    return json.loads(fixture_text(rel))


def crd_schema(plural):
    """The openAPIV3Schema of a Trivy Operator CRD."""
    with open(os.path.join(CRDS, f"aquasecurity.github.io_{plural}.yaml"), encoding="utf-8") as f:
        crd = yaml.safe_load(f)
    (version,) = crd["spec"]["versions"]
    return version["schema"]["openAPIV3Schema"]


def prune(value, schema, path, dropped):
    """Drops what a structural schema does not declare, as the API server does on write."""
    if isinstance(value, dict):
        if schema.get("x-kubernetes-preserve-unknown-fields"):
            return value
        props = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        out = {}
        for k, v in value.items():
            if k in props:
                out[k] = prune(v, props[k], f"{path}.{k}", dropped)
            elif isinstance(extra, dict):
                out[k] = prune(v, extra, f"{path}.{k}", dropped)
            else:
                dropped.append(f"{path}.{k}")
        return out
    if isinstance(value, list) and "items" in schema:
        return [prune(v, schema["items"], f"{path}[{i}]", dropped) for i, v in enumerate(value)]
    return value


def as_stored(cr, plural, expect_dropped=()):
    """The report as the API server stores it; fails on any pruning not expected."""
    schema = crd_schema(plural)
    dropped = []
    body = {k: v for k, v in cr.items() if k not in ("apiVersion", "kind", "metadata")}
    body = prune(body, {"properties": schema["properties"]}, "", dropped)
    unexpected = sorted(set(dropped) - set(expect_dropped))
    assert not unexpected, f"{plural}: fields the CRD does not hold: {unexpected}"
    return {"apiVersion": cr["apiVersion"], "kind": cr["kind"], "metadata": cr["metadata"], **body}


def repoint(cr, namespace, replicaset, old_replicaset, container=None):
    """Points a Trivy Operator report at a demo ReplicaSet, named and labelled as the operator
    does; drops what the API server assigns (uid, resourceVersion, timestamps)."""
    cr = copy.deepcopy(cr)
    md = cr["metadata"]
    for k in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        md.pop(k, None)
    md["namespace"] = namespace
    md["name"] = f"replicaset-{replicaset}" + (f"-{container}" if container else "")
    md["labels"]["trivy-operator.resource.name"] = replicaset
    md["labels"]["trivy-operator.resource.namespace"] = namespace
    for o in md.get("ownerReferences", []):
        o["name"] = replicaset
        o.pop("uid", None)  # filled at load time from the live ReplicaSet
    # Config-audit messages name the resource too.
    for check in cr.get("report", {}).get("checks", []):
        check["messages"] = [m.replace(old_replicaset, replicaset) for m in check.get("messages", [])]
    return cr


def as_todays_vulnerability_report(cr):
    """The DefectDojo export predates fields Trivy Operator now always writes (its CRD requires
    them). Filled the way Trivy Operator fills them (pkg/plugins/trivy/plugin.go):
    publishedDate / lastModifiedDate are "" when the scan result has no date (the export has
    none); os comes from the image: the packages are Alpine's (apk, -rN releases) and
    curl 7.87.0-r1 / tiff 4.4.0-r1 are Alpine 3.17's, the base of nginx:alpine in March 2023."""
    cr = copy.deepcopy(cr)
    report = cr["report"]
    report.setdefault("os", {"family": "alpine", "name": "3.17"})
    for v in report["vulnerabilities"]:
        v.setdefault("publishedDate", "")
        v.setdefault("lastModifiedDate", "")
    return cr


OUT = HERE  # --out


def write_json(rel, doc):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote", path)


def report_configmap(name, namespace, fmt, subject, key, text):
    """A CI report published to the cluster by the platform's CI: a ConfigMap in Stance's own
    namespace (trusted evidence: docs/security.md) that Stance reads (label) and attributes to an
    AppPosture or Asset of `namespace` (annotation). The report text is the fixture's, byte for
    byte."""
    kind, target = subject
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": "stance-system",
            "labels": {"aspm.stance.dev/report": fmt},
            "annotations": {f"aspm.stance.dev/{kind}": f"{namespace}/{target}"},
        },
        "data": {key: text},
    }


def main():
    global OUT
    parser = argparse.ArgumentParser(description="Regenerates the demo's derived files.")
    parser.add_argument("--out", default=HERE, help="write here instead of examples/demo")
    OUT = parser.parse_args().out
    # --- Trivy Operator, in the cluster -------------------------------------------------------
    vuln = as_todays_vulnerability_report(fixture("defectdojo/trivy_operator/vulnerabilityreport_many.json"))
    old_rs = vuln["metadata"]["labels"]["trivy-operator.resource.name"]
    write_json("reports/trivy-operator/vulnerabilityreports.json", {
        "apiVersion": "v1", "kind": "List",
        "items": [
            as_stored(repoint(vuln, "shop", STOREFRONT_RS, old_rs, "nginx"), "vulnerabilityreports"),
            # One report per ReplicaSet: the same image in another application.
            as_stored(repoint(vuln, "analytics", RENDERER_RS, old_rs, "nginx"), "vulnerabilityreports"),
        ],
    })
    audit = fixture("defectdojo/trivy_operator/all_reports_in_dict.json")["configauditreports.aquasecurity.github.io"][0]
    old_rs = audit["metadata"]["labels"]["trivy-operator.resource.name"]
    write_json("reports/trivy-operator/configauditreports.json", {
        "apiVersion": "v1", "kind": "List",
        "items": [as_stored(repoint(audit, "shop", STOREFRONT_RS, old_rs), "configauditreports")],
    })
    # The cluster-scoped SBOM of nginx:1.14.2 (the legacy admin UI's image), from Trivy
    # Operator's e2e test. That file is a test assertion written in YAML, not a stored object:
    # its timestamps are YAML timestamps (which YAML readers turn into local date objects) and
    # its BOM lists the tool's `vendor`, which the CRD does not hold. Stored, the timestamps
    # are the RFC 3339 strings Trivy Operator writes (metav1.Time for updateTimestamp; Trivy's
    # CycloneDX time for the BOM) and `vendor` is pruned.
    sbom = yaml.safe_load(fixture_text("trivy-operator/00-sbom-pod.yaml"))
    sbom["report"]["updateTimestamp"] = sbom["report"]["updateTimestamp"].strftime("%Y-%m-%dT%H:%M:%SZ")
    bom_meta = sbom["report"]["components"]["metadata"]
    bom_meta["timestamp"] = bom_meta["timestamp"].strftime("%Y-%m-%dT%H:%M:%S+00:00")
    write_json("reports/trivy-operator/clustersbomreport-nginx-1.14.2.json", as_stored(
        sbom, "clustersbomreports",
        expect_dropped=[".report.components.metadata.tools.components[0].vendor"]))

    # --- CI scans, published to the cluster ----------------------------------------------------
    for name, ns, fmt, subject, key, src in [
        ("payments-api-trivy", "payments", "trivy", ("app", "payments-api"), "payments-api.trivy.json",
         "trivy/spring4shell-jre11.json.golden"),
        ("catalog-trivy", "shop", "trivy", ("app", "catalog"), "catalog.trivy.json",
         "trivy/alpine-310.json.golden"),
        ("nightly-report-trivy", "analytics", "trivy", ("app", "reporting"), "nightly-report.trivy.json",
         "trivy/debian-stretch.json.golden"),
        ("storefront-zap", "shop", "zap", ("asset", "storefront-web"), "storefront.zap.json",
         "secobserve/zap/owasp_zap.json"),
        # SAST of the storefront repository.
        ("storefront-semgrep", "shop", "sarif", ("app", "storefront"), "semgrep.sarif",
         "secobserve/sarif/semgrep.sarif"),
    ]:
        write_json(f"reports/ci/{name}.configmap.json", report_configmap(name, ns, fmt, subject, key, fixture_text(src)))

    # --- Feeds ---------------------------------------------------------------------------------
    # KEV: the real catalog's entries for the CVEs this demo's reports mention (+ Log4Shell,
    # which a guardrail names).
    kev = fixture("kev/known_exploited_vulnerabilities.json")
    mentioned = {"CVE-2021-44228"}
    for root, _, files in os.walk(os.path.join(OUT, "reports")):
        for name in sorted(files):
            with open(os.path.join(root, name), encoding="utf-8") as f:
                text = f.read()
            mentioned.update(v["cveID"] for v in kev["vulnerabilities"] if v["cveID"] in text)
    subset = [v for v in kev["vulnerabilities"] if v["cveID"] in mentioned]
    write_json("feeds/known_exploited_vulnerabilities.json",
               {**{k: kev[k] for k in ("title", "catalogVersion", "dateReleased")},
                "count": len(subset), "vulnerabilities": subset})


if __name__ == "__main__":
    main()
