//! Property tests: fixtures randomly mutated, and arbitrary bytes, through `parse_bytes` and `parse_value`.

use super::*;

/// `PROPTEST_CASES` cases (default 96) per property; failures are not persisted (no
/// regression files in the source tree).
fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(96);
    Config { cases, failure_persistence: None, max_shrink_iters: 256, ..Config::default() }
}

/// Keys the parsers read (so that random objects sometimes mean something to them).
const KEYS: &str = "apiVersion kind metadata name namespace labels annotations ownerReferences items results report \
     components component purl group version licenses license id expression ratings score severity method \
     vulnerabilities affects ref versions bom-ref type properties bomFormat spdxVersion packages SPDXID \
     externalRefs referenceLocator relationships documentDescribes runs tool driver rules ruleId \
     ruleIndex message text locations physicalLocation logicalLocations fullyQualifiedName Results \
     Vulnerabilities VulnerabilityID PkgName PkgIdentifier PURL CVSS V3Score SchemaVersion ArtifactName \
     ArtifactType Metadata RepoTags RepoDigests Target ClusterName Resources site alerts @programName \
     @name pluginid riskcode policy rule result resources scope timestamp seconds nanos artifact registry \
     repository tag digest checks secrets vulnerabilityID data binaryData spec template containers image \
     catalogVersion cveID imageName repoTags suppressions fingerprints";

/// Strings that tend to matter: non-ASCII, empty, ids, purls, paths, numbers as text.
const STRINGS: &[&str] = &[
    "",
    " ",
    "é",
    "ééé",
    "ééééé",
    "😀",
    "\u{0}",
    "\u{feff}",
    "a\u{301}",
    "規則",
    "NOASSERTION",
    "NONE",
    "CVE-2021-44228",
    "cve-2021-44228",
    "CVE-é",
    "GHSA-jfh8-c2jp-5v3q",
    "ghsaé",
    "GHSA-",
    "KSV001",
    "KSVé",
    "AVD-KSV-0001",
    "7.5",
    "-1",
    "1e999",
    "NaN",
    "inf",
    "0x10",
    "pkg:maven/org.example/é@1",
    "pkg:npm/%40s/n@1",
    "pkg:",
    "pkg:deb/",
    "pkg:é/é",
    "pkg:oci/x@sha256%3Aabc",
    "fail",
    "pass",
    "warn",
    "error",
    "skip",
    "CycloneDX",
    "SPDX-2.3",
    "SPDX-3.0",
    "2.1.0",
    "v1",
    "List",
    "aquasecurity.github.io/v1alpha1",
    "wgpolicyk8s.io/v1alpha2",
    "openreports.io/v1alpha1",
    "VulnerabilityReport",
    "SbomReport",
    "PolicyReport",
    "ConfigMap",
    "Deployment",
    "container",
    "application",
    "sha256:",
    "alpine:3.18",
    "a@sha256:abc",
    "C:\\x",
    "./x",
    "../x.tar.gz",
    ".é",
    "https://github.com/org/repo",
    "git@github.com:org/repo",
    "(((",
    ")(",
    "(é)",
    "Upgrade x to version ",
    "Upgrade é to version é",
    "urn:cdx:x/1#pkg:maven/a/b@1",
    "#",
    "@",
    "\n\n",
    "  é  ",
    "Package: é\nInstalled Version: é",
    "aquasecurity:trivy:RepoTag",
    "2021-08-25",
    "9999-99-99",
    "Sat, 15 Apr 2023 18:23:09",
    "-",
    "/",
    "é/é/é",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(STRINGS).prop_map(String::from),
        2 => "\\PC{0,16}",
        1 => "[ -~]{0,24}",
    ]
}

fn key() -> impl Strategy<Value = String> {
    let keys: Vec<&'static str> = KEYS.split_whitespace().collect();
    prop_oneof![3 => prop::sample::select(keys).prop_map(String::from), 1 => text()]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => prop::sample::select(vec![0.0, -0.0, 0.5, 7.5, 10.0, 11.0, -1.0, 1e308, 5e-324, 4_294_967_296.0])
            .prop_map(Value::from),
        4 => text().prop_map(Value::String),
    ]
}

/// Any JSON value: a leaf or a (small) array or object of them.
fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A path into a document: child choices from the root, stopping early at leaves.
fn node_path() -> impl Strategy<Value = Vec<Index>> {
    prop::collection::vec(any::<Index>(), 0..14)
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Replace the node at the path with a value.
    Replace(Vec<Index>, Value),
    /// Delete a key of the object at (or, for a leaf, above) the path.
    DeleteKey(Vec<Index>, Index),
    /// Append a value to the array (or add a key to the object) at the path.
    Insert(Vec<Index>, String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (node_path(), json_value()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        3 => (node_path(), any::<Index>()).prop_map(|(p, k)| Mutation::DeleteKey(p, k)),
        1 => (node_path(), key(), json_value()).prop_map(|(p, k, v)| Mutation::Insert(p, k, v)),
    ]
}

/// The containers along `path` from `root`: each step picks a child of a non-empty array
/// or object, stopping at a leaf.
fn descend<'a>(root: &'a mut Value, path: &[Index], stop_above_leaf: bool) -> &'a mut Value {
    let mut current = root;
    for step in path {
        let len = match &*current {
            Value::Array(a) => a.len(),
            Value::Object(m) => m.len(),
            _ => 0,
        };
        if len == 0 {
            break;
        }
        let i = step.index(len);
        let is_leaf = |v: &Value| !(v.is_array() || v.is_object());
        let next_is_leaf = match &*current {
            Value::Array(a) => is_leaf(&a[i]),
            Value::Object(m) => m.values().nth(i).is_some_and(is_leaf),
            _ => true,
        };
        if stop_above_leaf && next_is_leaf {
            break;
        }
        current = match current {
            Value::Array(a) => &mut a[i],
            Value::Object(m) => m.values_mut().nth(i).expect("i < len"),
            _ => unreachable!("len > 0"),
        };
    }
    current
}

fn apply(root: &mut Value, m: &Mutation) {
    match m {
        Mutation::Replace(path, v) => *descend(root, path, false) = v.clone(),
        Mutation::DeleteKey(path, k) => match descend(root, path, true) {
            Value::Object(map) if !map.is_empty() => {
                let key = map.keys().nth(k.index(map.len())).cloned().expect("non-empty");
                map.remove(&key);
            }
            Value::Array(a) if !a.is_empty() => {
                a.remove(k.index(a.len()));
            }
            _ => {}
        },
        Mutation::Insert(path, key, v) => match descend(root, path, true) {
            Value::Object(map) => {
                map.insert(key.clone(), v.clone());
            }
            Value::Array(a) => a.push(v.clone()),
            _ => {}
        },
    }
}

/// How the mutated document is written back.
#[derive(Clone, Copy, Debug)]
enum Encoding {
    /// As the fixture was (JSON or YAML).
    Same,
    /// As JSON, whatever the fixture was.
    Json,
    /// As the fixture was, gzip-compressed.
    Gzip,
}

fn encode(f: &Fixture, docs: &[Value], encoding: Encoding) -> Vec<u8> {
    let text = if f.yaml && !matches!(encoding, Encoding::Json) {
        docs.iter()
            .map(|d| serde_yaml::to_string(d).expect("a JSON value is valid YAML"))
            .collect::<Vec<_>>()
            .join("---\n")
    } else if docs.len() == 1 {
        serde_json::to_string(&docs[0]).expect("serializable")
    } else {
        serde_json::to_string(docs).expect("serializable")
    };
    match encoding {
        Encoding::Gzip => gzip(text.as_bytes()),
        _ => text.into_bytes(),
    }
}

#[derive(Clone, Debug)]
struct Case {
    fixture: &'static Fixture,
    /// Which document of a YAML stream to mutate.
    doc: Index,
    mutations: Vec<Mutation>,
    encoding: Encoding,
    /// Cut the written bytes at this point (`None`: whole).
    truncate: Option<Index>,
}

fn case() -> impl Strategy<Value = Case> {
    let fixture = prop::sample::select(fixtures().iter().collect::<Vec<&'static Fixture>>());
    let encoding = prop_oneof![3 => Just(Encoding::Same), 1 => Just(Encoding::Json), 1 => Just(Encoding::Gzip)];
    (
        fixture,
        any::<Index>(),
        prop::collection::vec(mutation(), 1..5),
        encoding,
        prop::option::weighted(0.25, any::<Index>()),
    )
        .prop_map(|(fixture, doc, mutations, encoding, truncate)| Case {
            fixture,
            doc,
            mutations,
            encoding,
            truncate,
        })
}

/// Runs `f`, turning a panic into a test failure that says what was being parsed.
fn no_panic(what: &str, f: impl FnOnce()) -> Result<(), TestCaseError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| e.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        TestCaseError::fail(format!("{what} panicked: {msg}"))
    })
}

proptest! {
    #![proptest_config(config())]

    /// Mutated fixtures never panic `parse_value` or `parse_bytes`.
    #[test]
    fn mutated_fixtures_never_panic(c in case()) {
        let f = c.fixture;
        match &f.docs {
            Some(docs) => {
                let mut docs = docs.clone();
                let i = c.doc.index(docs.len());
                for m in &c.mutations {
                    apply(&mut docs[i], m);
                }
                no_panic(&format!("parse_value of mutated {}", f.rel), || {
                    for d in &docs {
                        run_value(&f.rel, d);
                    }
                })?;
                let mut bytes = encode(f, &docs, c.encoding);
                if let Some(t) = c.truncate {
                    bytes.truncate(t.index(bytes.len() + 1));
                }
                no_panic(&format!("parse_bytes of mutated {}", f.rel), || {
                    run_bytes(&f.rel, &bytes);
                })?;
            }
            None => {
                let mut bytes = f.bytes.clone();
                if let Some(t) = c.truncate {
                    bytes.truncate(t.index(bytes.len() + 1));
                }
                no_panic(&format!("parse_bytes of truncated {}", f.rel), || {
                    run_bytes(&f.rel, &bytes);
                })?;
            }
        }
    }

    /// Truncated fixtures (cut anywhere, also inside a multi-byte character) never panic.
    #[test]
    fn truncated_fixtures_never_panic(
        fixture in prop::sample::select(fixtures().iter().collect::<Vec<&'static Fixture>>()),
        cut in any::<Index>(),
        gzipped in any::<bool>(),
    ) {
        let bytes = &fixture.bytes[..cut.index(fixture.bytes.len() + 1)];
        let bytes = if gzipped { gzip(bytes) } else { bytes.to_vec() };
        no_panic(&format!("parse_bytes of truncated {}", fixture.rel), || {
            run_bytes(&fixture.rel, &bytes);
        })?;
    }

    /// Arbitrary bytes — garbage, gzip headers followed by garbage, gzip of garbage, text
    /// that starts like JSON, YAML or an EPSS CSV — never panic `parse_bytes`.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in arbitrary_bytes()) {
        no_panic("parse_bytes", || {
            run_bytes("bytes", &bytes);
        })?;
    }

    /// Random JSON values (also written as JSON, YAML and gzip) never panic.
    #[test]
    fn random_documents_never_panic(v in document()) {
        no_panic("parse_value", || {
            run_value("value", &v);
        })?;
        let json = serde_json::to_vec(&v).expect("serializable");
        let yaml = serde_yaml::to_string(&v).expect("serializable").into_bytes();
        for bytes in [gzip(&json), json, yaml] {
            no_panic("parse_bytes", || {
                run_bytes("value", &bytes);
            })?;
        }
    }
}

fn arbitrary_bytes() -> impl Strategy<Value = Vec<u8>> {
    let garbage = prop::collection::vec(any::<u8>(), 0..512);
    let prefixes: Vec<&'static [u8]> = vec![
        b"",
        b"\x1f\x8b",
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
        b"\x1f\x8b\x08\x1f\xff\xff\xff\xff\x00\xff",
        b"\xEF\xBB\xBF",
        b"{",
        b"[",
        b"#model_version:",
        b"cve,epss,percentile\n",
        b"---\n",
        b"apiVersion: v1\nkind: ",
        b"{\"bomFormat\": \"CycloneDX\", ",
    ];
    prop_oneof![
        3 => (prop::sample::select(prefixes), garbage.clone()).prop_map(|(p, g)| [p, &g[..]].concat()),
        1 => garbage.clone().prop_map(|g| gzip(&g)),
        // A valid gzip stream, corrupted at one byte.
        1 => (garbage, any::<Index>(), any::<u8>()).prop_map(|(g, i, b)| {
            let mut z = gzip(&g);
            let i = i.index(z.len());
            z[i] ^= b | 1;
            z
        }),
        1 => ("\\PC{0,64}", prop::sample::select(vec!["", "{", "[", "- ", "a: ", "cve,epss\n"]))
            .prop_map(|(s, p)| format!("{p}{s}").into_bytes()),
    ]
}

/// A random document that looks like one of the formats at its top level.
fn document() -> impl Strategy<Value = Value> {
    let heads = vec![
        json!({"bomFormat": "CycloneDX"}),
        json!({"spdxVersion": "SPDX-2.3"}),
        json!({"version": "2.1.0", "runs": []}),
        json!({"SchemaVersion": 2, "ArtifactName": "x"}),
        json!({"ClusterName": "c"}),
        json!({"Target": "x", "Vulnerabilities": []}),
        json!({"@programName": "ZAP", "site": []}),
        json!({"catalogVersion": "1", "vulnerabilities": []}),
        json!({"apiVersion": "wgpolicyk8s.io/v1alpha2", "kind": "PolicyReport"}),
        json!({"apiVersion": "openreports.io/v1alpha1", "kind": "Report"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "VulnerabilityReport"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "SbomReport"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ConfigAuditReport"}),
        json!({"apiVersion": "aquasecurity.github.io/v1alpha1", "kind": "ExposedSecretReport"}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"labels": {"aspm.stance.dev/report": "x"}}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment"}),
        json!({"apiVersion": "v1", "kind": "Pod"}),
        json!({"apiVersion": "v1", "kind": "List"}),
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute"}),
        json!({"apiVersion": "aspm.stance.dev/v1alpha1", "kind": "AppPosture"}),
    ];
    (prop::sample::select(heads), prop::collection::vec((key(), json_value()), 0..8)).prop_map(|(mut head, rest)| {
        let map = head.as_object_mut().expect("an object");
        for (k, v) in rest {
            map.insert(k, v);
        }
        head
    })
}
