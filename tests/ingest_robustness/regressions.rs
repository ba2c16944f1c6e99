//! Inputs that used to panic or to reject a whole document.

use super::*;

#[test]
fn non_ascii_rule_ids_do_not_panic() {
    // `is_vulnerability_id` sliced `id[..5]` by bytes: "byte index 5 is not a char boundary".
    let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
        "results": [{"ruleId": "ééé", "message": {"text": "m"}}]}]});
    let r = one_report("x.sarif", sarif.to_string().as_bytes());
    assert_eq!(&*r.findings[0].id, "ééé");

    let policy_report = "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nmetadata: {name: r, namespace: ns}\n\
                         results:\n- {policy: ééé, rule: ééé, result: fail}\n- {policy: p, rule: ééé, result: fail}\n";
    let r = one_report("pr.yaml", policy_report.as_bytes());
    let ids: Vec<&str> = r.findings.iter().map(|f| &*f.id).collect();
    assert_eq!(ids, ["ééé", "p/ééé"]);
}

#[test]
fn null_label_values_do_not_reject_documents() {
    // `labels: {team: }` failed with "metadata: invalid type: null, expected a string or number".
    let policy_report = "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n\
                         metadata: {name: r, namespace: ns, labels: {team: }, annotations: {owner: }}\n\
                         results:\n- {policy: require-team, result: fail, resources: [{kind: Pod, name: web}]}\n";
    let r = one_report("pr.yaml", policy_report.as_bytes());
    assert_eq!(r.findings.len(), 1);
    assert_eq!(r.findings[0].artifact.to_string(), "object:Pod/ns/web");

    // Trivy Operator reports, Kubernetes objects and report-carrying ConfigMaps alike.
    let operator = "apiVersion: aquasecurity.github.io/v1alpha1\nkind: VulnerabilityReport\n\
                    metadata:\n  name: r\n  namespace: ns\n  labels: {trivy-operator.resource.kind: Deployment, \
                    trivy-operator.resource.name: web, team: }\n  annotations: {a: }\n\
                    report: {artifact: {repository: acme/web}, vulnerabilities: [{vulnerabilityID: CVE-2024-1}]}\n";
    assert_eq!(one_report("vr.yaml", operator.as_bytes()).findings.len(), 1);
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, labels: {team: }}\nspec:\n  \
                      selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, tier: }}\n    \
                      spec: {containers: [{name: c, image: nginx}]}\n";
    let (out, warnings) = run_bytes("d.yaml", deployment.as_bytes());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(matches!(&out[..], [Parsed::Object(o)] if matches!(**o, KubeObject::Workload(_))), "{out:?}");
}

#[test]
fn cyclonedx_numeric_string_scores() {
    // A numeric string score failed the whole BOM.
    let bom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"bom-ref": "c1", "name": "openssl", "version": "3.0.0", "purl": "pkg:generic/openssl@3.0.0"}],
        "vulnerabilities": [{"id": "CVE-2024-1", "ratings": [{"score": "7.5", "method": "CVSSv31"}],
                             "affects": [{"ref": "c1"}]}]});
    let r = one_report("bom.json", bom.to_string().as_bytes());
    assert_eq!(r.components.as_ref().map(Vec::len), Some(1));
    let f = &r.findings[0];
    assert_eq!((f.cvss, f.severity), (Some(7.5), Severity::High));
}

/// The same package URLs through SARIF, PolicyReport, CycloneDX and a Trivy Operator SBOM
/// report get the same names (three rules used to disagree: `pkg:gitlab/…`, `pkg:swift/…`
/// were `namespace/name` in CycloneDX only).
#[test]
fn every_format_names_purl_packages_alike() {
    let purls = [
        ("pkg:maven/org.yaml/snakeyaml@1.33", "org.yaml:snakeyaml"),
        ("pkg:npm/%40babel/core@7.0.0", "@babel/core"),
        ("pkg:golang/github.com/gorilla/mux@v1.8.0", "github.com/gorilla/mux"),
        ("pkg:gitlab/group/project@1.0", "group/project"),
        ("pkg:swift/github.com/apple/swift-nio@2.0.0", "github.com/apple/swift-nio"),
        ("pkg:huggingface/distilbert/distilbert-base-uncased@043235d", "distilbert/distilbert-base-uncased"),
        ("pkg:deb/debian/tar@1.30", "tar"),
        ("pkg:pypi/django@4.2", "django"),
    ];
    let expected: Vec<&str> = purls.iter().map(|(_, name)| *name).collect();

    let results: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, (purl, _))| {
            json!({"ruleId": format!("CVE-2024-{:04}", i + 1),
                   "locations": [{"logicalLocations": [{"fullyQualifiedName": purl}]}]})
        })
        .collect();
    let sarif =
        json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "dependency-check"}}, "results": results}]});
    assert_eq!(package_names(&one_report("x.sarif", sarif.to_string().as_bytes())), expected, "SARIF");

    let results: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, (purl, _))| {
            json!({"policy": format!("CVE-2024-{:04}", i + 1), "result": "fail", "properties": {"purl": purl}})
        })
        .collect();
    let pr = json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "results": results});
    assert_eq!(package_names(&one_report("pr.json", pr.to_string().as_bytes())), expected, "PolicyReport");

    // CycloneDX: a component named only by its purl, and a bom-link into another BOM.
    let components: Vec<Value> =
        purls.iter().enumerate().map(|(i, (purl, _))| json!({"bom-ref": format!("c{i}"), "purl": purl})).collect();
    let vulns: Vec<Value> = purls
        .iter()
        .enumerate()
        .map(|(i, (purl, _))| {
            json!({"id": format!("CVE-2024-{:04}", i + 1), "affects": [{"ref": format!("urn:cdx:x/1#{purl}")}]})
        })
        .collect();
    let bom = json!({"bomFormat": "CycloneDX", "components": components, "vulnerabilities": vulns});
    let r = one_report("bom.json", bom.to_string().as_bytes());
    assert_eq!(package_names(&r), expected, "CycloneDX bom-link");
    let names: Vec<&str> = r.components.as_ref().unwrap().iter().map(|c| &*c.name).collect();
    assert_eq!(names, expected, "CycloneDX components");

    // CycloneDX and Trivy Operator: components with a group (the purl's namespace).
    let grouped: Vec<Value> = purls
        .iter()
        .map(|(purl, _)| {
            let p = packageurl::PackageUrl::from_str(purl).unwrap();
            let mut c = json!({"name": p.name(), "purl": purl});
            if let Some(ns) = p.namespace() {
                c["group"] = json!(ns);
            }
            c
        })
        .collect();
    let bom = json!({"bomFormat": "CycloneDX", "components": grouped});
    let r = one_report("bom.json", bom.to_string().as_bytes());
    let names: Vec<&str> = r.components.as_ref().unwrap().iter().map(|c| &*c.name).collect();
    assert_eq!(names, expected, "CycloneDX groups");
    let sbom = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport",
        "metadata": {"name": "s", "namespace": "ns"},
        "report": {"artifact": {"repository": "org/app", "tag": "1"}, "components": bom}});
    let r = one_report("sbom.json", sbom.to_string().as_bytes());
    let names: Vec<&str> = r.components.as_ref().unwrap().iter().map(|c| &*c.name).collect();
    assert_eq!(names, expected, "Trivy Operator SBOM");
}

/// Trivy Operator's embedded BOM kept `NOASSERTION`, duplicates and redundant parentheses;
/// it now lists the same licenses as the CycloneDX parser for the same components.
#[test]
fn operator_sbom_licenses_match_cyclonedx() {
    let bom = json!({"bomFormat": "CycloneDX", "components": [
        {"name": "a", "licenses": [{"license": {"id": "NOASSERTION"}}, {"expression": "(MIT OR Apache-2.0)"},
                                   {"expression": "MIT OR Apache-2.0"}]},
        {"name": "b", "licenses": [{"license": {"name": "NONE"}}]},
        {"name": "c", "licenses": [{"license": {"id": "BSD-3-Clause"}}, {"license": {"id": "BSD-3-Clause"}}]}]});
    let cdx = one_report("bom.json", bom.to_string().as_bytes());
    let sbom = json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport",
        "metadata": {"name": "s", "namespace": "ns"},
        "report": {"artifact": {"repository": "org/app", "tag": "1"}, "components": bom}});
    let op = one_report("sbom.json", sbom.to_string().as_bytes());
    let licenses = |r: &Report| -> Vec<Vec<String>> {
        r.components.as_ref().unwrap().iter().map(|c| c.licenses.iter().map(|l| l.to_string()).collect()).collect()
    };
    assert_eq!(licenses(&op), [vec!["MIT OR Apache-2.0"], vec![], vec!["BSD-3-Clause"]]);
    assert_eq!(licenses(&op), licenses(&cdx));
}

/// One rule decides whether a scanned name is a path: Trivy JSON took `.cache/alpine` for
/// an image name, CycloneDX took `images\alpine`.
#[test]
fn path_names_are_not_images_in_any_format() {
    let tags = ["alpine:3.18"];
    for name in [".cache/alpine", "images\\alpine", "C:\\scans\\alpine", "./alpine", "/tmp/alpine.tar"] {
        let trivy = json!({"SchemaVersion": 2, "ArtifactName": name, "ArtifactType": "container_image",
                           "Metadata": {"RepoTags": tags}, "Results": []});
        let r = one_report("t.json", trivy.to_string().as_bytes());
        assert_eq!(r.scanned[0].to_string(), "image:docker.io/library/alpine:3.18", "Trivy JSON {name}");
        let bom = json!({"bomFormat": "CycloneDX", "metadata": {"component": {"type": "container", "name": name,
            "properties": [{"name": "aquasecurity:trivy:RepoTag", "value": tags[0]}]}}});
        let r = one_report("bom.json", bom.to_string().as_bytes());
        assert_eq!(r.scanned[0].to_string(), "image:docker.io/library/alpine:3.18", "CycloneDX {name}");
        let sarif = json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy"}},
            "properties": {"imageName": name, "repoTags": tags}, "results": []}]});
        let r = one_report("t.sarif", sarif.to_string().as_bytes());
        assert_eq!(r.scanned[0].to_string(), "image:docker.io/library/alpine:3.18", "SARIF {name}");
    }
}

#[test]
fn kindless_policy_report_lists_name_the_item() {
    let item = |results: Value| {
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport", "metadata": {"name": "r"},
               "results": results})
    };
    let list = json!({"apiVersion": "v1", "items": [item(json!([])), item(json!([{"policy": "p", "result": 7.5}]))]});
    let (_, warnings) = run_bytes("l.json", list.to_string().as_bytes());
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].message.starts_with("PolicyReport: items[1].results[0].result: "), "{}", warnings[0].message);
}

/// Gzip in gzip and ConfigMaps in ConfigMaps recursed once per level: a crafted file of a
/// few thousand levels overflowed the stack (an abort, not even a panic). Nesting is now
/// limited (and the limit is reported).
#[test]
fn deep_nesting_is_a_warning() {
    let doc = br#"{"version": "2.1.0", "runs": []}"#;
    let mut bytes = doc.to_vec();
    for _ in 0..300 {
        bytes = gzip(&bytes);
    }
    let (out, warnings) = run_bytes("deep.gz", &bytes);
    assert!(out.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("nest more than"), "{}", warnings[0].message);

    // A ConfigMap carrying a ConfigMap carrying … a SARIF log, in YAML block scalars: the
    // report ConfigMap is a typed channel, so the one it carries is refused at once.
    let mut yaml = String::from("{\"version\": \"2.1.0\", \"runs\": []}\n");
    for _ in 0..40 {
        let indented: String = yaml.lines().map(|l| format!("    {l}\n")).collect();
        yaml = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels: {{aspm.stance.dev/report: x}}\ndata:\n  r: |\n{indented}"
        );
    }
    let (out, warnings) = run_bytes("cm.yaml", yaml.as_bytes());
    assert!(out.is_empty());
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].message.contains("a ConfigMap cm (v1) is not a report"), "{}", warnings[0].message);
}

/// Inputs that are easy to get wrong: deep nesting, YAML aliases and tags, byte-order
/// marks, EPSS-looking garbage.
#[test]
fn tricky_inputs_are_warnings() {
    let deep_json = "[".repeat(100_000);
    let deep_yaml = "- ".repeat(10_000) + "x";
    let laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n\
                  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n\
                  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n\
                  g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
    let inputs: Vec<Vec<u8>> = vec![
        deep_json.into_bytes(),
        deep_yaml.into_bytes(),
        laughs.as_bytes().to_vec(),
        b"a: *unknown\n".to_vec(),
        b"? [a, b]\n: c\n".to_vec(),
        b"{1: 2}".to_vec(),
        b"1: 2\n".to_vec(),
        b"!!binary aGVsbG8=\n".to_vec(),
        b"key: !custom {a: 1}\n".to_vec(),
        b"\xEF\xBB\xBF\xEF\xBB\xBF{}".to_vec(),
        b"\xff\xfe{\x00}\x00".to_vec(),
        b"#model_version".to_vec(),
        b"#model_version:v1\n".to_vec(),
        b"cve,epss\n\"unterminated".to_vec(),
        b"cve,epss,percentile\nCVE-2021-44228,NaN,inf\n".to_vec(),
        b"\x1f\x8b".to_vec(),
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff".to_vec(),
        gzip(b""),
        gzip(b"\x1f\x8b"),
        gzip(b"{\"bomFormat\": \"CycloneDX\", \"components\": [{\"purl\": \"pkg:\"}]}")[..30].to_vec(),
        b"---\n---\n...\n".to_vec(),
        b"apiVersion: v1\nkind: List\nitems: [1, null, [], {kind: List, items: [{}]}]\n".to_vec(),
        b"{\"a.b\": [[{\"a.b\": []}]]}".to_vec(),
    ];
    for (i, bytes) in inputs.iter().enumerate() {
        let result = catch_unwind(AssertUnwindSafe(|| run_bytes("tricky", bytes)));
        assert!(result.is_ok(), "input {i} panicked: {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(80)]));
    }
}
