//! The release image runs: the OCI archive `hack/image.sh` writes is unpacked with umoci and
//! the binary is run from the image's root filesystem — chrooted into it, as the image's
//! non-root user, so nothing of the host can be what makes it work.
//!
//! It needs the archive, so it is ignored in a plain `cargo test`; `hack/test.sh` builds the
//! image and runs it with `STANCE_TEST_IMAGE=<archive> cargo test --test image -- --ignored`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const NOW: &str = "2026-11-27T12:00:00Z";
/// The compressed size a registry stores and a node pulls must stay below this.
const MAX_COMPRESSED_BYTES: u64 = 30_000_000;

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout.join("blobs").join(digest.replace(':', "/"))
}

/// True when the ELF file asks for a dynamic loader (a `PT_INTERP` program header).
fn has_interpreter(elf: &[u8]) -> bool {
    assert_eq!(&elf[..5], b"\x7fELF\x02", "not a 64-bit ELF file");
    let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| u32::from_le_bytes(elf[phoff + i * size..][..4].try_into().unwrap()) == 3)
}

fn files_under(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.file_type().unwrap().is_dir() {
            files_under(&e.path(), &format!("{name}/"), out);
        } else {
            out.push(name);
        }
    }
}

#[test]
#[ignore = "needs the image: run hack/test.sh, or hack/image.sh then STANCE_TEST_IMAGE=<archive>"]
fn release_image_runs_the_demo_like_the_host_binary() {
    let archive = PathBuf::from(std::env::var("STANCE_TEST_IMAGE").expect("STANCE_TEST_IMAGE names the OCI archive"));
    let tmp = tempfile::tempdir().unwrap();
    let layout = tmp.path().join("layout");
    std::fs::create_dir(&layout).unwrap();
    run(Command::new("tar").arg("-xf").arg(&archive).arg("-C").arg(&layout));

    // The image configuration: non-root, the binary as entrypoint, OCI labels.
    let index = json(&layout.join("index.json"));
    let manifest_desc = &index["manifests"][0];
    let tag = manifest_desc["annotations"]["org.opencontainers.image.ref.name"].as_str().unwrap().to_string();
    assert_eq!(tag, env!("CARGO_PKG_VERSION"), "the image is tagged with the crate's version");
    let manifest = json(&blob(&layout, manifest_desc["digest"].as_str().unwrap()));
    let config = json(&blob(&layout, manifest["config"]["digest"].as_str().unwrap()));
    assert_eq!(config["config"]["User"], "65532:65532");
    assert_eq!(config["config"]["Entrypoint"], serde_json::json!(["/usr/local/bin/stance"]));
    let labels = &config["config"]["Labels"];
    assert_eq!(labels["org.opencontainers.image.version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(labels["org.opencontainers.image.source"], "https://github.com/stance-dev/stance");
    assert_eq!(labels["org.opencontainers.image.licenses"], "Apache-2.0");
    let layers = manifest["layers"].as_array().unwrap();
    assert!(layers.iter().all(|l| l["mediaType"].as_str().unwrap().ends_with("+gzip")), "layers are compressed");
    let compressed: u64 = layers.iter().map(|l| l["size"].as_u64().unwrap()).sum();
    assert!(compressed < MAX_COMPRESSED_BYTES, "image layers are {compressed} bytes compressed");
    eprintln!("image layers: {compressed} bytes compressed");

    // Unpacked: the binary and the CA bundle, nothing else (no shell to exec into).
    let bundle = tmp.path().join("bundle");
    run(Command::new("umoci").args(["unpack", "--image"]).arg(format!("{}:{tag}", layout.display())).arg(&bundle));
    let rootfs = bundle.join("rootfs");
    let mut files = Vec::new();
    files_under(&rootfs, "", &mut files);
    files.sort();
    assert_eq!(files, ["etc/ssl/certs/ca-certificates.crt", "usr/local/bin/stance"]);
    let binary = std::fs::read(rootfs.join("usr/local/bin/stance")).unwrap();
    assert!(!has_interpreter(&binary), "the binary is statically linked");
    assert!(binary.windows(9).any(|w| w == b"mi_malloc"), "mimalloc is linked in");

    // Run it inside the image's filesystem, as the image's user, next to a copy of the demo.
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    run(Command::new("cp").arg("-r").arg(&demo).arg(rootfs.join("demo")));
    let is_root = run(Command::new("id").arg("-u")).stdout == b"0\n";
    let in_image = |args: &[&str]| -> std::process::Output {
        let mut cmd = if is_root {
            let mut c = Command::new("chroot");
            c.arg("--userspec=65532:65532").arg(&rootfs).arg("/usr/local/bin/stance");
            c
        } else {
            // Without root there is no chroot: the binary still runs from the rootfs.
            let mut c = Command::new(rootfs.join("usr/local/bin/stance"));
            c.current_dir(&rootfs);
            c
        };
        run(cmd.args(args))
    };
    let on_host = |args: &[&str]| run(Command::new(env!("CARGO_BIN_EXE_stance")).current_dir(&rootfs).args(args));

    let version = in_image(&["--version"]);
    assert_eq!(String::from_utf8(version.stdout).unwrap(), format!("stance {}\n", env!("CARGO_PKG_VERSION")));
    for format in ["table", "json", "sarif"] {
        let args = ["scan", "demo", "--now", NOW, "--format", format];
        let (image, host) = (in_image(&args), on_host(&args));
        assert!(!image.stdout.is_empty());
        assert!(
            image.stdout == host.stdout,
            "`stance {}` differs between the image and the host binary:\n--- image\n{}\n--- host\n{}",
            args.join(" "),
            String::from_utf8_lossy(&image.stdout),
            String::from_utf8_lossy(&host.stdout)
        );
    }
}
