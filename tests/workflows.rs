//! The CI files are valid and publish what the chart and the docs point at: every GitHub
//! workflow (ours and the example) validates against SchemaStore's workflow schema, the
//! GitLab example against GitLab's CI schema (both committed under tests/schemas); the
//! release workflow pushes the image the chart deploys by default, signs and attests it;
//! the CI examples use a released, pinned Stance and install every tool they call.

mod common;

use std::path::{Path, PathBuf};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn text(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn github_workflows() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(".github/workflows"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    files.push(root().join("examples/gitops/ci/github-actions.yml"));
    files
}

#[test]
fn workflow_files_validate_against_the_published_schemas() {
    let github = common::schema::committed("github-workflow.json");
    let files = github_workflows();
    assert!(files.len() >= 3, "{files:?}");
    for f in &files {
        let errors = common::schema::errors(&github, &yaml(f));
        assert!(errors.is_empty(), "{}: {errors:#?}", f.display());
    }
    let gitlab = common::schema::committed("gitlab-ci.json");
    let example = yaml(&root().join("examples/gitops/ci/gitlab-ci.yml"));
    let errors = common::schema::errors(&gitlab, &example);
    assert!(errors.is_empty(), "examples/gitops/ci/gitlab-ci.yml: {errors:#?}");

    // The schemas reject what GitHub and GitLab reject.
    let mut broken = yaml(&files[0]);
    let job = broken["jobs"].as_object_mut().unwrap().values_mut().next().unwrap();
    job["runs_on"] = job["runs-on"].take();
    job.as_object_mut().unwrap().remove("runs-on");
    assert!(!common::schema::errors(&github, &broken).is_empty(), "a misspelt runs-on passes");
    let mut broken = example;
    broken["stance-check"]["artifacts"]["when"] = "sometimes".into();
    assert!(!common::schema::errors(&gitlab, &broken).is_empty(), "an invalid artifacts.when passes");
}

#[test]
fn every_action_is_pinned_to_a_release() {
    for f in github_workflows() {
        for line in std::fs::read_to_string(&f).unwrap().lines() {
            let Some(uses) = line.trim().trim_start_matches("- ").strip_prefix("uses: ") else { continue };
            let (_, reference) =
                uses.split_once('@').unwrap_or_else(|| panic!("{}: {uses} has no @version", f.display()));
            assert!(
                reference.starts_with('v') || reference.len() == 40,
                "{}: {uses} follows a branch, not a release",
                f.display()
            );
        }
    }
}

#[test]
fn release_workflow_publishes_what_the_chart_deploys() {
    let release = yaml(&root().join(".github/workflows/release.yml"));
    let values = yaml(&root().join("charts/stance/values.yaml"));
    let chart = yaml(&root().join("charts/stance/Chart.yaml"));
    // The chart deploys <repository>:<appVersion> unless told otherwise...
    assert_eq!(values["image"]["tag"], "", "the chart's default tag follows appVersion");
    assert_eq!(chart["appVersion"], env!("CARGO_PKG_VERSION"));
    // ...and the release pushes exactly that: the repository, tagged with the bare version.
    assert_eq!(release["env"]["IMAGE"], values["image"]["repository"]);
    let tags = release.pointer("/on/push/tags/0").and_then(Value::as_str).unwrap();
    assert!(tags.starts_with('v'), "releases are cut from v-prefixed tags: {tags}");
    let steps = |job: &str| -> Vec<Value> { release["jobs"][job]["steps"].as_array().unwrap().clone() };
    let step = |job: &str, uses: &str| -> Value {
        steps(job)
            .into_iter()
            .find(|s| s["uses"].as_str().is_some_and(|u| u.starts_with(uses)))
            .unwrap_or_else(|| panic!("job {job} has no {uses} step"))
    };
    let meta = step("image", "docker/metadata-action");
    assert!(meta["with"]["tags"].as_str().unwrap().lines().any(|l| l.trim() == "type=semver,pattern={{version}}"));
    let build = step("image", "docker/build-push-action");
    assert_eq!(build["with"]["platforms"], "linux/amd64,linux/arm64");
    assert_eq!(build["with"]["file"], "Containerfile.release");
    let runs =
        |job: &str| -> String { steps(job).iter().filter_map(|s| s["run"].as_str()).collect::<Vec<_>>().join("\n") };
    assert!(runs("image").contains("cosign sign --yes \"$IMAGE@"), "the image is signed by digest");
    assert_eq!(step("image", "actions/attest-sbom")["with"]["subject-name"], "${{ env.IMAGE }}");
    assert_eq!(step("image", "actions/attest-build-provenance")["with"]["push-to-registry"], true);
    let perms = &release["jobs"]["image"]["permissions"];
    assert_eq!(perms["id-token"], "write", "keyless signing needs the OIDC token");
    assert!(runs("chart").contains("helm push") && runs("chart").contains("cosign sign"));
    assert!(runs("github-release").contains("sha256sum stance-*.tar.gz > SHA256SUMS"));
    let arches: Vec<&str> = release["jobs"]["binaries"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["arch"].as_str().unwrap())
        .collect();
    assert_eq!(arches, ["amd64", "arm64"]);
    // The chart job waits for the image; the release for everything.
    assert_eq!(release["jobs"]["chart"]["needs"], "image");
    // The static build is the one hack/image.sh runs and tests.
    assert!(text("hack/image.sh").contains("RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked"));
    assert!(runs("binaries").contains("stance-$version-linux-${{ matrix.arch }}.tar.gz"));
}

#[test]
fn ci_examples_use_a_pinned_release_and_install_what_they_call() {
    let asset = "stance-${STANCE_VERSION}-linux-amd64.tar.gz";
    let github = yaml(&root().join("examples/gitops/ci/github-actions.yml"));
    let gitlab = yaml(&root().join("examples/gitops/ci/gitlab-ci.yml"));
    for (name, doc, version) in [
        ("github-actions.yml", &github, &github["env"]["STANCE_VERSION"]),
        ("gitlab-ci.yml", &gitlab, &gitlab["variables"]["STANCE_VERSION"]),
    ] {
        assert_eq!(version, env!("CARGO_PKG_VERSION"), "{name}: pin the current release");
        let all = serde_json::to_string(doc).unwrap();
        assert!(all.contains(asset) && all.contains("sha256sum --check"), "{name}: download and verify the release");
        assert!(!all.contains("cargo install"), "{name}: do not compile Stance in every pipeline");
    }
    // Trivy is installed before it is called: Aqua's action on GitHub, Aqua's image on GitLab.
    let steps = github["jobs"]["guardrails"]["steps"].as_array().unwrap();
    let first = |pred: &dyn Fn(&Value) -> bool| steps.iter().position(pred).unwrap();
    let setup = first(&|s| s["uses"].as_str().is_some_and(|u| u.starts_with("aquasecurity/setup-trivy@")));
    let call = first(&|s| s["run"].as_str().is_some_and(|r| r.contains("trivy image")));
    assert!(setup < call);
    assert!(gitlab["scan-images"]["image"]["name"].as_str().unwrap().starts_with("docker.io/aquasec/trivy:"));
}
