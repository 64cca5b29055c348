//! Replays the fuzz targets' inputs in the normal suite: every seed in `fuzz/seeds/<target>/`
//! and every crash input kept in `tests/data/fuzz-regressions/<target>/`, through the very
//! checks the targets run (`fuzz/src/lib.rs`, compiled into this test).

use std::path::{Path, PathBuf};

// The fuzz crate's checks are `pub` for its targets; here they live in a private module.
#[allow(unreachable_pub)]
#[path = "../../fuzz/src/lib.rs"]
mod checks;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs `check` on `input`, naming the file when it panics.
fn replay(check: fn(&[u8]), file: &Path) {
    let input = std::fs::read(file).unwrap();
    if std::panic::catch_unwind(|| check(&input)).is_err() {
        panic!(
            "{} fails its fuzz target's checks (reproduce with `cargo fuzz run <target> {}` in fuzz/)",
            file.display(),
            file.display()
        );
    }
}

#[test]
fn seeds_and_kept_crash_inputs_pass_the_fuzz_checks() {
    let root = root();
    for (target, check) in checks::TARGETS {
        let seeds = files(&root.join("fuzz/seeds").join(target));
        assert!(!seeds.is_empty(), "fuzz/seeds/{target}/ has seeds");
        let regressions = files(&root.join("tests/data/fuzz-regressions").join(target));
        for file in seeds.iter().chain(&regressions) {
            replay(*check, file);
        }
    }
}

#[test]
fn the_bulk_line_target_covers_every_batch_endpoint() {
    // The target visits every endpoint through `visit_batch`, which reaches exactly the
    // endpoints with a batch list.
    struct Name;
    impl tim_core::BatchVisitor for Name {
        type Output = &'static str;
        fn visit<E: tim_core::Batch>(self) -> &'static str {
            E::INFO.command
        }
    }
    for id in tim_core::EndpointId::ALL {
        assert_eq!(
            id.visit_batch(Name),
            id.info().batch.map(|_| id.command()),
            "{id}"
        );
    }
    assert!(
        tim_core::EndpointId::ALL
            .iter()
            .any(|id| id.visit_batch(Name).is_some())
    );
}

#[test]
fn the_checks_see_what_they_are_meant_to() {
    // The status split of decode inputs: three in four are 200, the rest spread over 100..=999.
    let (status, body) = checks::decode_input(b"\x01\x00{}");
    assert_eq!((status.as_u16(), body), (200, &b"{}"[..]));
    let (status, _) = checks::decode_input(&(402u16 * 4).to_le_bytes());
    assert_eq!(status.as_u16(), 502);
    // A seed that verifies, so the "verified" branch of the UserSig check is reached.
    let sig =
        std::fs::read_to_string(root().join("fuzz/seeds/usersig/fuzz-key-valid.txt")).unwrap();
    let claims = tim_core::usersig::verify(
        &sig,
        1_400_000_000,
        "administrator",
        &tim_core::SecretKey::new("fuzz-key-not-a-secret"),
        1_700_000_000,
    );
    assert!(claims.is_ok(), "{claims:?}");
}
