//! SPDX 3.0 JSON-LD documents (`@context: https://spdx.org/rdf/3.0.x/spdx-context.jsonld`
//! and an `@graph` of elements), read as the SPDX 3.0.1 model defines them
//! (<https://spdx.github.io/spdx-spec/v3.0.1/>: `Core/Classes/SpdxDocument`, `Relationship`,
//! `Software/Classes/Package`, `SimpleLicensing/Classes/LicenseExpression`).
//!
//! One [`Report`] per document, with the same rules as the SPDX 2 parser
//! ([`super::spdx`]), so that the SPDX 2.3 and 3.0 forms of one SBOM give one inventory:
//!
//! * **roots**: the `SpdxDocument`'s `rootElement`s (an `Sbom` / `Bom` / `Bundle` root
//!   stands for its own `rootElement`s) and the targets of `describes` relationships from
//!   the document. The first root package is the subject: a container
//!   (`software_primaryPurpose: container`, a `pkg:oci` / `pkg:docker` purl) is an
//!   [`Artifact::Image`]; a package with a VCS purl or download location is an
//!   [`Artifact::Repository`]; anything else is `Artifact::Other("name@version")`. A
//!   document without a root package is `Other(document name)`.
//! * **components**: every other `software_Package` (not an operating system), with
//!   `software_packageVersion`, its purl (`software_packageUrl`, else a `packageUrl`
//!   external identifier) and its licence: the `hasConcludedLicense` target, else the
//!   `hasDeclaredLicense` one (a `LicenseExpression`'s text, or a listed licence named by
//!   its `https://spdx.org/licenses/<id>` IRI); `NOASSERTION` / `NONE` skipped.
//! * **findings**: a package's `externalRef` of type `securityAdvisory` whose locator names
//!   a CVE or GHSA id is a vulnerability of unknown severity on that package, as in SPDX 2.
//! * **scanner**: the `Tool` elements' names; **scanned at**: the document's
//!   `creationInfo.created`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::FormatError;
use super::finding_id::advisory_id;
use super::license::spdx_license;
use super::sbom_subject::{ImageHints, image_ref, purl_repository, vcs_repository};
use super::{source, timestamp};
use crate::model::{Artifact, Component, Finding, FindingKind, Format, Package, Report, Severity, Source};

const LICENSE_IRI: &str = "https://spdx.org/licenses/";

/// True for an SPDX 3 JSON-LD document: an SPDX 3 `@context` and an `@graph` array.
pub fn detect(v: &Value) -> bool {
    let spdx3 = |c: &Value| c.as_str().is_some_and(|s| s.contains("spdx.org/rdf/3"));
    let context = match v.get("@context") {
        Some(Value::Array(list)) => list.iter().any(spdx3),
        Some(c) => spdx3(c),
        None => false,
    };
    context && v.get("@graph").is_some_and(Value::is_array)
}

/// One element of the graph: its id, type and properties.
struct Element<'a> {
    id: &'a str,
    ty: &'a str,
    props: &'a Map<String, Value>,
}

impl<'a> Element<'a> {
    fn str(&self, key: &str) -> Option<&'a str> {
        self.props.get(key).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }

    /// A property holding one IRI or a list of them.
    fn iris(&self, key: &str) -> Vec<&'a str> {
        match self.props.get(key) {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// Parses one SPDX 3 JSON-LD document into one report.
pub fn parse(origin: &str, v: &Value) -> Result<Vec<Report>, FormatError> {
    let Some(Value::Array(graph)) = v.get("@graph") else {
        return Err(FormatError::new("@graph", "expected an array"));
    };
    let mut elements: Vec<Element<'_>> = Vec::with_capacity(graph.len());
    for (i, e) in graph.iter().enumerate() {
        let Value::Object(props) = e else {
            return Err(FormatError::new(format!("@graph[{i}]"), "expected an object"));
        };
        let text = |k: &str| -> Result<Option<&str>, FormatError> {
            match props.get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.as_str())),
                Some(_) => Err(FormatError::new(format!("@graph[{i}].{k}"), "expected a string")),
            }
        };
        let id = text("spdxId")?.or(text("@id")?).unwrap_or("");
        let ty = text("type")?.or(text("@type")?).unwrap_or("");
        for list in ["rootElement", "to"] {
            if props.get(list).is_some_and(|l| !(l.is_array() || l.is_string())) {
                return Err(FormatError::new(format!("@graph[{i}].{list}"), "expected an array of element ids"));
            }
        }
        elements.push(Element { id, ty: ty.trim_start_matches("spdx:"), props });
    }
    let by_id: HashMap<&str, &Element<'_>> = elements.iter().filter(|e| !e.id.is_empty()).map(|e| (e.id, e)).collect();
    let documents: Vec<&Element<'_>> = elements.iter().filter(|e| e.ty == "SpdxDocument").collect();
    let doc = documents.first();

    // Roots: the document's root elements (SBOM / BOM / bundle roots stand for theirs) and
    // what it `describes`.
    let collections = ["software_Sbom", "Bom", "Bundle", "SpdxDocument"];
    let mut roots: Vec<&str> = Vec::new();
    let mut pending: Vec<&str> = doc.map(|d| d.iris("rootElement")).unwrap_or_default();
    let describers: HashSet<&str> = elements.iter().filter(|e| collections.contains(&e.ty)).map(|e| e.id).collect();
    for r in
        elements.iter().filter(|e| e.ty.ends_with("Relationship") && e.str("relationshipType") == Some("describes"))
    {
        if r.str("from").is_some_and(|f| describers.contains(f)) {
            pending.extend(r.iris("to"));
        }
    }
    let mut visited: HashSet<&str> = HashSet::new();
    while let Some(id) = pending.pop() {
        if !visited.insert(id) {
            continue;
        }
        match by_id.get(id) {
            Some(e) if collections.contains(&e.ty) => pending.extend(e.iris("rootElement")),
            _ => roots.push(id),
        }
    }
    let root_set: HashSet<&str> = roots.iter().copied().collect();

    // Licences: package → concluded / declared licence element.
    let mut concluded: HashMap<&str, &str> = HashMap::new();
    let mut declared: HashMap<&str, &str> = HashMap::new();
    for r in elements.iter().filter(|e| e.ty.ends_with("Relationship")) {
        let (Some(from), Some(to)) = (r.str("from"), r.iris("to").first().copied()) else { continue };
        match r.str("relationshipType") {
            Some("hasConcludedLicense") => concluded.entry(from).or_insert(to),
            Some("hasDeclaredLicense") => declared.entry(from).or_insert(to),
            _ => continue,
        };
    }
    // The licence text an IRI stands for; SPDX 3's `NoneLicense` / `NoAssertionLicense`
    // individuals read as SPDX 2's `NONE` / `NOASSERTION`.
    let license_text = |id: &str| -> Option<String> {
        match by_id.get(id) {
            Some(e) => e.str("simplelicensing_licenseExpression").or(e.str("name")).map(str::to_string),
            None if id.ends_with("/NoneLicense") => Some("NONE".into()),
            None if id.ends_with("/NoAssertionLicense") => Some("NOASSERTION".into()),
            None => id.strip_prefix(LICENSE_IRI).map(str::to_string),
        }
    };

    let tools: Vec<&str> = {
        let mut t: Vec<&str> = elements.iter().filter(|e| e.ty == "Tool").filter_map(|e| e.str("name")).collect();
        t.dedup();
        t
    };
    let scanner = if tools.is_empty() { "SPDX".to_string() } else { tools.join(", ") };
    let src = source(Format::Spdx, &scanner, origin);
    let created = doc
        .and_then(|d| match d.props.get("creationInfo") {
            Some(Value::String(blank)) => {
                elements.iter().find(|e| e.id == blank.as_str()).and_then(|c| c.str("created"))
            }
            Some(Value::Object(ci)) => ci.get("created").and_then(Value::as_str),
            _ => None,
        })
        .and_then(timestamp::parse);

    let packages: Vec<&Element<'_>> = elements.iter().filter(|e| e.ty == "software_Package").collect();
    let subject = packages
        .iter()
        .filter(|p| root_set.contains(p.id))
        .min_by_key(|p| roots.iter().position(|r| *r == p.id))
        .map(|p| subject(p))
        .unwrap_or_else(|| Artifact::Other(Arc::from(doc.and_then(|d| d.str("name")).unwrap_or(origin))));

    let mut report = Report::new(src.clone());
    let mut components = Vec::new();
    for p in &packages {
        vulnerability_findings(p, &subject, &src, created, &mut report.findings);
        let os = p.str("software_primaryPurpose").is_some_and(|x| x.eq_ignore_ascii_case("operatingSystem"));
        if root_set.contains(p.id) || os {
            continue;
        }
        let Some(name) = p.str("name") else { continue };
        let text = |m: &HashMap<&str, &str>| m.get(p.id).and_then(|l| license_text(l));
        let license = spdx_license(text(&concluded).as_deref(), text(&declared).as_deref());
        components.push(Component {
            name: Arc::from(name),
            version: p.str("software_packageVersion").map(Arc::from),
            purl: purl(p).map(Arc::from),
            licenses: license.into_iter().map(Arc::from).collect(),
        });
    }
    report.scanned = vec![subject];
    report.scanned_at = created;
    report.components = Some(components);
    Ok(vec![report])
}

/// `software_packageUrl`, else a `packageUrl` external identifier.
fn purl<'a>(p: &Element<'a>) -> Option<&'a str> {
    p.str("software_packageUrl").or_else(|| {
        let ids = p.props.get("externalIdentifier")?.as_array()?;
        ids.iter().find_map(|x| {
            (x.get("externalIdentifierType")?.as_str()? == "packageUrl").then(|| x.get("identifier")?.as_str())?
        })
    })
}

fn subject(p: &Element<'_>) -> Artifact {
    let name = p.str("name").unwrap_or("");
    let version = p.str("software_packageVersion");
    let purl = purl(p);
    let container = p.str("software_primaryPurpose").is_some_and(|x| x.eq_ignore_ascii_case("container"))
        || purl.is_some_and(|u| u.starts_with("pkg:oci/") || u.starts_with("pkg:docker/"));
    if container {
        let hints = ImageHints { name, version, purl, repo_tags: Vec::new(), repo_digests: Vec::new() };
        if let Some(image) = image_ref(&hints) {
            return Artifact::Image(image);
        }
    } else if let Some(repo) = purl
        .and_then(purl_repository)
        .or_else(|| p.str("software_downloadLocation").and_then(vcs_repository))
        .or_else(|| vcs_repository(name))
    {
        return Artifact::Repository(Arc::from(repo));
    }
    let label = if name.is_empty() { p.id } else { name };
    Artifact::Other(Arc::from(match version {
        Some(v) => format!("{label}@{v}"),
        None => label.to_string(),
    }))
}

fn vulnerability_findings(
    p: &Element<'_>,
    artifact: &Artifact,
    src: &Arc<Source>,
    at: Option<jiff::Timestamp>,
    out: &mut Vec<Finding>,
) {
    let Some(Value::Array(refs)) = p.props.get("externalRef") else { return };
    let mut seen: Vec<String> = Vec::new();
    for r in refs {
        if r.get("externalRefType").and_then(Value::as_str) != Some("securityAdvisory") {
            continue;
        }
        let locators: Vec<&str> = match r.get("locator") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(l)) => l.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for locator in locators {
            let Some(id) = advisory_id(locator) else { continue };
            if seen.contains(&id) {
                continue;
            }
            let mut f =
                Finding::new(FindingKind::Vulnerability, &id, Severity::Unknown, &id, artifact.clone(), src.clone());
            f.package = Some(Package {
                purl: purl(p).map(Arc::from),
                name: Arc::from(p.str("name").unwrap_or(p.id)),
                installed_version: p.str("software_packageVersion").map(Arc::from),
                fixed_version: None,
            });
            f.primary_url = Some(Arc::from(locator.trim()));
            f.first_seen = at;
            out.push(f);
            seen.push(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const CTX: &str = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld";

    #[test]
    fn detects_spdx3_only() {
        assert!(detect(&json!({"@context": CTX, "@graph": []})));
        assert!(!detect(&json!({"@context": "https://schema.org", "@graph": []})));
        assert!(!detect(&json!({"spdxVersion": "SPDX-2.3"})));
    }

    #[test]
    fn malformed_input_names_the_element() {
        let e = parse("s", &json!({"@context": CTX, "@graph": [{"type": "Tool"}, 3]})).unwrap_err();
        assert_eq!(e.to_string(), "@graph[1]: expected an object");
        let e =
            parse("s", &json!({"@context": CTX, "@graph": [{"type": "SpdxDocument", "rootElement": {}}]})).unwrap_err();
        assert_eq!(e.to_string(), "@graph[0].rootElement: expected an array of element ids");
        let e = parse("s", &json!({"@context": CTX, "@graph": [{"spdxId": 1}]})).unwrap_err();
        assert_eq!(e.to_string(), "@graph[0].spdxId: expected a string");
    }

    #[test]
    fn containers_listed_licences_and_advisories() {
        let v = json!({"@context": CTX, "@graph": [
            {"type": "SpdxDocument", "spdxId": "d", "rootElement": ["s"]},
            {"type": "software_Sbom", "spdxId": "s", "rootElement": ["img"]},
            {"type": "software_Package", "spdxId": "img", "name": "ghcr.io/acme/app", "software_primaryPurpose": "container",
             "software_packageVersion": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
            {"type": "software_Package", "spdxId": "p", "name": "openssl", "software_packageVersion": "3.0.1",
             "externalIdentifier": [{"type": "ExternalIdentifier", "externalIdentifierType": "packageUrl", "identifier": "pkg:deb/debian/openssl@3.0.1"}],
             "externalRef": [{"type": "ExternalRef", "externalRefType": "securityAdvisory", "locator": ["https://nvd.nist.gov/vuln/detail/CVE-2022-3602"]}]},
            {"type": "Relationship", "spdxId": "r", "from": "p", "relationshipType": "hasDeclaredLicense", "to": ["https://spdx.org/licenses/Apache-2.0"]}
        ]});
        let r = parse("s", &v).unwrap().remove(0);
        let Artifact::Image(img) = &r.scanned[0] else { panic!("{:?}", r.scanned) };
        assert!(img.digest.as_deref().is_some_and(|d| d.starts_with("sha256:0123")));
        let c = &r.components.as_ref().unwrap()[0];
        assert_eq!((c.purl.as_deref(), c.licenses[0].as_ref()), (Some("pkg:deb/debian/openssl@3.0.1"), "Apache-2.0"));
        assert_eq!(&*r.findings[0].id, "CVE-2022-3602");
    }
}
