//! `tim`: the command-line tool (being built; see issue 5).

use std::process::ExitCode;

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    eprintln!(
        "tim: the command-line tool is not built yet (the client, emulator and CLI issues are in progress)."
    );
    ExitCode::from(2)
}
