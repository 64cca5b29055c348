//! Project automation for tim-rs.
//!
//! - `cargo xtask regenerate`: spec/ → crates/core/src/generated/ and the per-service cargo
//!   features (see [`codegen`]).
//! - `cargo xtask regenerate --check`: fail, naming the stale file, when the checked-in code is
//!   not what the spec generates.
//! - `cargo xtask bench`, `cargo xtask harden`: measure, print one table each, and rewrite their
//!   section of BENCHMARKS.md (see [`evidence`]).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod codegen;
mod evidence;

use codegen::Mode;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

fn usage() -> ExitCode {
    eprintln!("usage: cargo xtask regenerate [--check] | bench | harden");
    ExitCode::from(2)
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["regenerate"] => report(codegen::regenerate(&root(), Mode::Write)),
        ["regenerate", "--check"] => report(codegen::regenerate(&root(), Mode::Check)),
        ["bench"] => report(evidence::bench::run(&root())),
        ["harden"] => report(evidence::harden::run(&root())),
        _ => usage(),
    }
}

fn report(r: Result<Vec<String>, Vec<String>>) -> ExitCode {
    match r {
        Ok(lines) => {
            for l in lines {
                eprintln!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in problems {
                eprintln!("error: {p}");
            }
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in generated code is exactly what the spec generates.
    #[test]
    fn generated_code_is_fresh() {
        if let Err(problems) = codegen::regenerate(&root(), Mode::Check) {
            panic!("{}", problems.join("\n"));
        }
    }

    fn fixture(name: &str) -> PathBuf {
        root().join("xtask/tests/fixtures").join(name)
    }

    /// `common.json` of the fixtures plus one fixture service file.
    fn load_fixture(service: &str) -> Result<tim_spec::Model, Vec<String>> {
        let read = |n: &str| std::fs::read_to_string(fixture(n)).unwrap();
        tim_spec::load_files(&[
            ("common.json".to_owned(), read("common.json")),
            (
                format!("services/{service}.json"),
                read(&format!("{service}.json")),
            ),
        ])
    }

    /// A contributor's typo is reported with the file and spec path, not a panic.
    #[test]
    fn schema_errors_name_the_path() {
        let all = load_fixture("typo").unwrap_err().join("\n");
        assert!(all.contains("services/typo.json"), "{all}");
        assert!(all.contains("endpoints[0].request.fields[0]"), "{all}");
        assert!(all.contains("unknown field"), "{all}");
    }

    /// Semantic mistakes (unknown codes, bad refs, keyword names) are reported together.
    #[test]
    fn semantic_errors_are_collected() {
        let all = load_fixture("semantic").unwrap_err().join("\n");
        assert!(all.contains("unknown type reference \"Nope\""), "{all}");
        assert!(
            all.contains("error 99999 is not in any errors table"),
            "{all}"
        );
        assert!(all.contains("`type` is a keyword"), "{all}");
        assert!(all.contains("duplicate command"), "{all}");
        assert!(all.contains("method name `client` is taken"), "{all}");
        assert!(all.contains("must be named tiny.json"), "{all}");
    }

    /// The small fixture spec generates code that is snapshotted, so reviewers see what the
    /// generator emits without reading it.
    #[test]
    fn fixture_output_matches_snapshot() {
        let model = load_fixture("tiny").unwrap();
        let out = codegen::generate(&model).unwrap();
        for name in ["tiny/endpoints.rs", "tiny/api.rs", "registry.rs"] {
            let generated = &out[name];
            let expected_path = fixture(&format!("tiny.{}.txt", name.replace('/', ".")));
            if std::env::var_os("UPDATE_FIXTURES").is_some() {
                std::fs::write(&expected_path, generated).unwrap();
            }
            let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
            if let Some((i, (got, want))) = generated
                .lines()
                .zip(expected.lines())
                .enumerate()
                .find(|(_, (a, b))| a != b)
            {
                panic!(
                    "generator output {name} for xtask/tests/fixtures/tiny.json changed at line {}:\n  now:  {got}\n  was:  {want}\nrerun with UPDATE_FIXTURES=1 and review the diff",
                    i + 1
                );
            }
            assert_eq!(
                generated.lines().count(),
                expected.lines().count(),
                "generator output {name} for the fixture changed length; rerun with UPDATE_FIXTURES=1 and review"
            );
        }
    }
}
