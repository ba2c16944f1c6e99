#!/usr/bin/env python3
"""The Kubernetes objects under examples/, as a live API server gets them.

hack/demo-cluster.sh and tests/demo_cluster.rs use this; it talks to the cluster only through
kubectl ($KUBECTL, default `kubectl`) and $KUBECONFIG. Needs Python 3 and PyYAML.

Usage:
  demo-objects.py list PATH...       every object under the paths: file, kind, namespace/name
                                     (no cluster needed)
  demo-objects.py load DIR           installs the CRDs, then applies every object under DIR for
                                     real (kubectl apply): namespaces first, reports last, their
                                     owners' uids filled from the live objects. Exit 1 if any
                                     is refused.
  demo-objects.py validate PATH...   installs the CRDs, then applies every object under the
                                     paths with `--dry-run=server`: the server validates and
                                     admits it, and stores nothing. Namespaces must exist (load
                                     the demo first). Exit 1 if any is refused.
  demo-objects.py unload DIR         deletes what `load DIR` created (the CRDs stay).
  demo-objects.py webhook-config --url URL --ca-file PEM
                                     the ValidatingWebhookConfiguration the Helm chart installs,
                                     pointed at URL (a `stance run` outside the cluster).

"Refused" means the API server (or kubectl's schema validation) rejected the object, or stored
it without some of its fields: a field the schema does not declare is pruned silently by the
server, so load and validate compare what was stored with what was sent. Each refusal names
the file and the object.

What a 1.20 API server (hack/local-cluster.sh) gets differently, and why:
- CronJob batch/v1 is served from Kubernetes 1.21 on: where the server lacks it the CronJob is
  sent as batch/v1beta1 (the same fields).
- The Gateway API CRD carries CEL rules (x-kubernetes-validations, Kubernetes 1.25+); an older
  server cannot hold them, so they are removed before it is installed. HTTPRoutes are then
  checked against the schema without those rules.
- Kubernetes 1.21+ labels every namespace `kubernetes.io/metadata.name=<name>`, which the
  chart's webhook namespaceSelector uses to skip exempt namespaces; `load` adds that label
  where the server did not.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
FIXTURE_CRDS = REPO.parent / "shared" / "fixtures" / "crds"
# The CRDs the examples' objects need: Stance's own and the scanners' / Gateway API's (real
# files, see ../shared/fixtures/SOURCES.md).
CRD_DIRS = [REPO / "crds"] + [FIXTURE_CRDS / d for d in ("trivy-operator", "wgpolicyk8s", "openreports", "gateway-api")]
KUBECTL = os.environ.get("KUBECTL", "kubectl")
# Fields the API server sets itself, whatever was sent: not a refusal when they differ.
SERVER_OWNED = {("metadata", "creationTimestamp")}
WEBHOOK_NAME = "stance-demo"


class Loader(yaml.SafeLoader):
    """YAML as kubectl reads it, except that timestamps stay the strings they were written as
    (PyYAML would turn them into date objects)."""


Loader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# --- reading -----------------------------------------------------------------------------------


class Obj:
    def __init__(self, file: Path, body: dict):
        self.file = file
        self.body = body

    @property
    def kind(self) -> str:
        return self.body.get("kind", "")

    @property
    def group(self) -> str:
        av = self.body.get("apiVersion", "")
        return av.rsplit("/", 1)[0] if "/" in av else ""

    @property
    def namespace(self) -> str | None:
        return self.body.get("metadata", {}).get("namespace")

    @property
    def name(self) -> str:
        return self.body.get("metadata", {}).get("name", "?")

    def label(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        try:
            file = self.file.resolve().relative_to(REPO)
        except ValueError:
            file = self.file
        return f"{file}: {self.kind} {where}"


def documents(path: Path):
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        yield json.loads(text)
    else:
        yield from yaml.load_all(text, Loader=Loader)


def objects(paths: list[str]) -> list[Obj]:
    """Every Kubernetes object (a document with apiVersion and kind; List items) in the files
    under the paths, in path order. Other documents (scanner output, feeds, CI configs) are
    not objects and are skipped."""
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in (".yaml", ".yml", ".json"))
        else:
            files.append(p)
    out = []
    for f in files:
        for doc in documents(f):
            if not isinstance(doc, dict) or "apiVersion" not in doc or "kind" not in doc:
                continue
            if doc["kind"] == "List" or doc["kind"].endswith("List") and "items" in doc:
                out += [Obj(f, item) for item in doc.get("items") or []]
            else:
                out.append(Obj(f, doc))
    return out


# --- kubectl -----------------------------------------------------------------------------------


def kubectl(*args: str, body: dict | None = None, check: bool = False) -> subprocess.CompletedProcess:
    cp = subprocess.run(
        [KUBECTL, *args],
        input=json.dumps(body) if body is not None else None,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and cp.returncode != 0:
        sys.exit(f"kubectl {' '.join(args)} failed: {cp.stderr.strip()}")
    return cp


def get_json(*args: str):
    cp = kubectl("get", *args, "-o", "json")
    return json.loads(cp.stdout) if cp.returncode == 0 else None


_served: dict[str, set[str]] = {}


def served(group_version: str, resource: str) -> bool:
    if group_version not in _served:
        path = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
        cp = kubectl("get", "--raw", path)
        names = {r["name"] for r in json.loads(cp.stdout)["resources"]} if cp.returncode == 0 else set()
        _served[group_version] = names
    return resource in _served[group_version]


def server_minor() -> int:
    v = json.loads(kubectl("version", "-o", "json", check=True).stdout)["serverVersion"]
    return int("".join(c for c in v["minor"] if c.isdigit()))


# --- as the server gets them -------------------------------------------------------------------


def put(body: dict, dry_run: bool) -> subprocess.CompletedProcess:
    """`kubectl apply` (create, or update by a three-way merge that keeps what the server
    defaulted); prints what the server stored."""
    extra = ["--dry-run=server"] if dry_run else []
    return kubectl("apply", "-o", "json", "-f", "-", *extra, body=body)


def put_crd(body: dict) -> subprocess.CompletedProcess:
    """Creates or replaces a CRD. Not `kubectl apply`: its copy of the object in an
    annotation would exceed the annotation size limit for the Gateway API CRD."""
    cp = kubectl("create", "-f", "-", body=body)
    if cp.returncode != 0 and "AlreadyExists" in cp.stderr:
        cp = kubectl("replace", "-f", "-", body=body)
    return cp


def without_cel(schema):
    """A CRD schema without x-kubernetes-validations (for servers older than 1.25)."""
    if isinstance(schema, dict):
        return {k: without_cel(v) for k, v in schema.items() if k != "x-kubernetes-validations"}
    if isinstance(schema, list):
        return [without_cel(v) for v in schema]
    return schema


def install_crds() -> None:
    missing = [str(d) for d in CRD_DIRS if not d.is_dir()]
    if missing:
        sys.exit(f"CRDs not found: {', '.join(missing)} (the scanner CRDs are in ../shared/fixtures/crds)")
    old = server_minor() < 25
    names = []
    for crd in objects([str(d) for d in CRD_DIRS]):
        if crd.kind != "CustomResourceDefinition":
            continue
        body = without_cel(crd.body) if old else crd.body
        cp = put_crd(body)
        if cp.returncode != 0:
            sys.exit(f"cannot install {crd.label()}: {cp.stderr.strip()}")
        names.append(f"crd/{crd.name}")
    kubectl("wait", "--for", "condition=established", "--timeout=60s", *names, check=True)
    _served.clear()


def current_replicaset(namespace: str, deployment: str, timeout: float = 90.0) -> dict:
    """The ReplicaSet of a Deployment's current revision (the controller-manager creates it)."""
    deadline = time.monotonic() + timeout
    while True:
        rs = get_json("replicasets", "-n", namespace) or {"items": []}
        owned = [
            r
            for r in rs["items"]
            if any(o.get("kind") == "Deployment" and o.get("name") == deployment and o.get("controller")
                   for o in r["metadata"].get("ownerReferences", []))
        ]
        if owned:
            return max(owned, key=lambda r: int(r["metadata"].get("annotations", {}).get(
                "deployment.kubernetes.io/revision", "0")))
        if time.monotonic() > deadline:
            raise LookupError(f"Deployment {namespace}/{deployment} has no ReplicaSet after {timeout:.0f}s")
        time.sleep(0.5)


def resolve_owners(o: Obj) -> tuple[dict, list[str]]:
    """The object with its owners' uids filled from the live owners, as Trivy Operator's
    envtest fixtures are. A report naming a ReplicaSet that does not exist is re-pointed at
    the current ReplicaSet of the same Deployment (`<deployment>-<pod-template-hash>`: the hash
    depends on the Kubernetes version). Returns the body and what was changed."""
    body = json.loads(json.dumps(o.body))
    notes = []
    for ref in body.get("metadata", {}).get("ownerReferences", []):
        if ref.get("uid"):
            continue
        plural = {"ReplicaSet": "replicasets", "Deployment": "deployments", "Pod": "pods"}.get(ref["kind"])
        if plural is None:
            raise LookupError(f"owner kind {ref['kind']} is not resolved by this script")
        live = get_json(plural, ref["name"], "-n", o.namespace)
        if live is None and ref["kind"] == "ReplicaSet" and "-" in ref["name"]:
            live = current_replicaset(o.namespace, ref["name"].rsplit("-", 1)[0])
            old, new = ref["name"], live["metadata"]["name"]
            # The name is `<deployment>-<hash>`, unique in the report: replace it everywhere
            # (report name, labels, owner reference, config-audit messages).
            body = json.loads(json.dumps(body).replace(old, new))
            notes.append(f"ReplicaSet {old} is {new} here")
            ref = next(r for r in body["metadata"]["ownerReferences"] if r["name"] == new)
        if live is None:
            raise LookupError(f"owner {ref['kind']} {o.namespace}/{ref['name']} does not exist (load its workload first)")
        ref["uid"] = live["metadata"]["uid"]
    return body, notes


def as_served(o: Obj, body: dict) -> tuple[dict, list[str]]:
    notes = []
    if o.kind == "CronJob" and body["apiVersion"] == "batch/v1" and not served("batch/v1", "cronjobs"):
        body = {**body, "apiVersion": "batch/v1beta1"}
        notes.append("sent as batch/v1beta1 (this server has no batch/v1 CronJob)")
    return body, notes


def dropped(sent, stored, path=()) -> list[str]:
    """Paths of what was sent but not stored as sent (pruned or changed by the server)."""
    if path in SERVER_OWNED:
        return []
    where = ".".join(map(str, path)) or "(object)"
    if isinstance(sent, dict):
        if not isinstance(stored, dict):
            return [where]
        out = []
        for k, v in sent.items():
            out += dropped(v, stored[k], path + (k,)) if k in stored else [".".join(map(str, path + (k,)))]
        return out
    if isinstance(sent, list):
        if not isinstance(stored, list) or len(stored) != len(sent):
            return [where]
        return [p for i, (a, b) in enumerate(zip(sent, stored)) for p in dropped(a, b, path + (i,))]
    return [] if sent == stored else [where]


def submit(o: Obj, dry_run: bool) -> tuple[str | None, list[str]]:
    """Applies one object; returns (refusal or None, notes)."""
    try:
        body, notes = resolve_owners(o)
    except LookupError as e:
        return str(e), []
    body, more = as_served(o, body)
    notes += more
    cp = put(body, dry_run)
    if cp.returncode != 0:
        return cp.stderr.strip(), notes
    lost = dropped({k: v for k, v in body.items() if k != "status"}, json.loads(cp.stdout))
    if lost:
        return f"the server did not keep: {', '.join(lost)} (not in the schema?)", notes
    return None, notes


def run(objs: list[Obj], dry_run: bool, verb: str) -> int:
    refused = 0
    for o in objs:
        refusal, notes = submit(o, dry_run)
        if refusal:
            refused += 1
            print(f"REFUSED {o.label()}: {refusal}", flush=True)
        else:
            print(f"ok      {o.label()}" + "".join(f" [{n}]" for n in notes), flush=True)
    files = len({o.file for o in objs})
    print(f"{verb} {len(objs)} objects from {files} files: {refused} refused", flush=True)
    return 1 if refused else 0


def phase(o: Obj) -> int:
    """Load order: namespaces, then objects without owners, then owned ones (reports)."""
    if o.kind == "Namespace":
        return 0
    return 2 if o.body.get("metadata", {}).get("ownerReferences") else 1


def label_namespaces() -> None:
    for ns in (get_json("namespaces") or {"items": []})["items"]:
        name = ns["metadata"]["name"]
        if ns["metadata"].get("labels", {}).get("kubernetes.io/metadata.name") != name:
            kubectl("label", "namespace", name, f"kubernetes.io/metadata.name={name}", "--overwrite", check=True)


# --- commands ----------------------------------------------------------------------------------


def cmd_list(args) -> int:
    for o in objects(args.paths):
        print(o.label())
    return 0


def cmd_load(args) -> int:
    install_crds()
    objs = sorted(objects([args.dir]), key=phase)  # stable: file order within a phase
    first = [o for o in objs if phase(o) == 0]
    status = run(first, dry_run=False, verb="namespaces:")
    label_namespaces()
    return run([o for o in objs if phase(o) > 0], dry_run=False, verb="loaded") or status


def cmd_validate(args) -> int:
    install_crds()
    return run(objects(args.paths), dry_run=True, verb="validated")


def cmd_unload(args) -> int:
    kubectl("delete", "validatingwebhookconfiguration", WEBHOOK_NAME, "--ignore-not-found")
    objs = objects([args.dir])
    # Namespaced objects outside the demo's own namespaces and cluster-scoped ones first; then
    # the namespaces (which takes everything in them).
    own = {o.name for o in objs if o.kind == "Namespace"}
    for o in objs:
        if o.kind != "Namespace" and o.namespace not in own:
            kubectl("delete", "--ignore-not-found", "--wait=false", "-f", "-", body=o.body)
    for o in objs:
        if o.kind == "Namespace":
            kubectl("delete", "namespace", o.name, "--ignore-not-found", "--timeout=120s")
    return 0


def cmd_webhook_config(args) -> int:
    ca = base64.b64encode(Path(args.ca_file).read_bytes()).decode()
    client = {"url": args.url, "caBundle": ca}
    common = {
        "admissionReviewVersions": ["v1"],
        "sideEffects": "NoneOnDryRun",
        "failurePolicy": "Fail",
        "matchPolicy": "Equivalent",
        "timeoutSeconds": 5,
        "clientConfig": client,
    }
    # As charts/stance/templates/webhook.yaml renders with the default values (release
    # namespace stance-system); tests/demo_cluster.rs compares the two.
    config = {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingWebhookConfiguration",
        "metadata": {"name": WEBHOOK_NAME},
        "webhooks": [
            {
                "name": "workloads.aspm.stance.dev",
                **common,
                "namespaceSelector": {
                    "matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "NotIn",
                         "values": ["kube-system", "stance-system"]},
                        {"key": "aspm.stance.dev/ignore", "operator": "NotIn", "values": ["true"]},
                    ]
                },
                "rules": [
                    {"apiGroups": [""], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                     "resources": ["pods", "pods/ephemeralcontainers"], "scope": "Namespaced"},
                    {"apiGroups": ["apps"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                     "resources": ["deployments", "statefulsets", "daemonsets", "replicasets"], "scope": "Namespaced"},
                    {"apiGroups": ["batch"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                     "resources": ["jobs", "cronjobs"], "scope": "Namespaced"},
                ],
            },
            {
                "name": "objects.aspm.stance.dev",
                **common,
                "rules": [
                    {"apiGroups": ["aspm.stance.dev"], "apiVersions": ["*"], "operations": ["CREATE", "UPDATE"],
                     "resources": ["guardrailpolicies", "riskexceptions"], "scope": "*"},
                ],
            },
        ],
    }
    print(json.dumps(config, indent=2))
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("list")
    s.add_argument("paths", nargs="+")
    s.set_defaults(fn=cmd_list)
    s = sub.add_parser("load")
    s.add_argument("dir")
    s.set_defaults(fn=cmd_load)
    s = sub.add_parser("validate")
    s.add_argument("paths", nargs="+")
    s.set_defaults(fn=cmd_validate)
    s = sub.add_parser("unload")
    s.add_argument("dir")
    s.set_defaults(fn=cmd_unload)
    s = sub.add_parser("webhook-config")
    s.add_argument("--url", required=True)
    s.add_argument("--ca-file", required=True)
    s.set_defaults(fn=cmd_webhook_config)
    args = p.parse_args()
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
