#!/usr/bin/env python3
"""Writes the scripted remediation timeline's reports from a real Trivy Operator report.

Run from anywhere: python3 examples/history/derive.py [--out DIR]  (needs ../shared/fixtures
beside the repository; Python 3, standard library only). It rewrites v1/ and v2/
vulnerabilityreport.json in place, or under DIR. The output is deterministic:
tests/history_timeline.rs regenerates it and compares.

The source is DefectDojo's export of a real Trivy Operator VulnerabilityReport of
nginx:alpine (Alpine 3.17, March 2023; ../shared/fixtures/defectdojo/trivy_operator/
vulnerabilityreport_many.json). The timeline is two versions of the storefront image:

- v1, nginx:1.23.3-alpine, scanned 2026-11-02T08:00:00Z: the fixture's 41 findings, unchanged.
- v2, nginx:1.23.4-alpine, scanned 2026-11-23T08:00:00Z: DERIVED, not a second real scan. The
  rebuild installed, for every package with a fix, the FIRST fixed version the report lists
  for it (curl 7.87.0-r2, libcrypto3/libssl3 3.0.8-r1, tiff 4.4.0-r2): the findings fixed in
  that version are gone; those fixed only in a later version (curl 7.88.1-r1, tiff 4.4.0-r3)
  or not at all (aws-sdk-go) remain, with the new installed version. Findings are otherwise
  the fixture's (ids, severities, scores, titles, links).

Both are re-pointed at the storefront Deployment's ReplicaSet in namespace `shop`, as Trivy
Operator names and labels its reports, with the fields the current CRD requires filled as in
examples/demo/derive.py (so the real API server accepts them); `report.updateTimestamp` is the timeline's scan time
(what Stance counts first-seen dates from when no history store knows better).
"""
import argparse
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "..", "shared", "fixtures")
SOURCE = "defectdojo/trivy_operator/vulnerabilityreport_many.json"

VERSIONS = [
    # (folder, image tag, ReplicaSet, scan time)
    ("v1", "1.23.3-alpine", "storefront-6b8f5c7d9", "2026-11-02T08:00:00Z"),
    ("v2", "1.23.4-alpine", "storefront-7c9d6e8f4", "2026-11-23T08:00:00Z"),
]


def apk_key(version):
    """Orders the Alpine versions of this report (N.N.N-rN): enough for the first-fix rule."""
    base, _, release = version.partition("-r")
    return [int(p) for p in base.split(".")] + [int(release or 0)]


def repoint(cr, tag, replicaset, scanned):
    cr = copy.deepcopy(cr)
    md = cr["metadata"]
    for k in ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields"):
        md.pop(k, None)
    md["namespace"] = "shop"
    md["name"] = f"replicaset-{replicaset}-nginx"
    md["labels"]["trivy-operator.resource.name"] = replicaset
    md["labels"]["trivy-operator.resource.namespace"] = "shop"
    for o in md.get("ownerReferences", []):
        o["name"] = replicaset
        o.pop("uid", None)
    cr["report"]["artifact"]["tag"] = tag
    cr["report"]["updateTimestamp"] = scanned
    # Fields today's Trivy Operator always writes and its CRD requires, which this older
    # export lacks, filled as Trivy Operator fills them (as examples/demo/derive.py does):
    # no date in the scan result is "", and the OS is Alpine 3.17 (curl 7.87.0-r1 and tiff
    # 4.4.0-r1 are Alpine 3.17's packages).
    cr["report"].setdefault("os", {"family": "alpine", "name": "3.17"})
    for v in cr["report"]["vulnerabilities"]:
        v.setdefault("publishedDate", "")
        v.setdefault("lastModifiedDate", "")
    return cr


def upgraded(cr):
    """v2: every package with a fix at its first fixed version (module docstring)."""
    cr = copy.deepcopy(cr)
    vulns = cr["report"]["vulnerabilities"]
    first_fix = {}
    for v in vulns:
        fix = v.get("fixedVersion") or ""
        if fix:
            cur = first_fix.get(v["resource"])
            if cur is None or apk_key(fix) < apk_key(cur):
                first_fix[v["resource"]] = fix
    kept = []
    for v in vulns:
        installed = first_fix.get(v["resource"])
        if installed is None:
            kept.append(v)
        elif apk_key(v["fixedVersion"]) > apk_key(installed):
            v = dict(v, installedVersion=installed)
            kept.append(v)
    cr["report"]["vulnerabilities"] = kept
    counts = {s: 0 for s in ("critical", "high", "medium", "low", "none", "unknown")}
    for v in kept:
        counts[v["severity"].lower()] += 1
    cr["report"]["summary"] = {f"{s}Count": n for s, n in counts.items()}
    return cr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=HERE)
    out = ap.parse_args().out
    with open(os.path.join(FIX, SOURCE), encoding="utf-8") as f:
        source = json.load(f)
    for folder, tag, replicaset, scanned in VERSIONS:
        cr = repoint(source, tag, replicaset, scanned)
        if folder == "v2":
            cr = upgraded(cr)
        os.makedirs(os.path.join(out, folder), exist_ok=True)
        with open(os.path.join(out, folder, "vulnerabilityreport.json"), "w", encoding="utf-8") as f:
            json.dump(cr, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
