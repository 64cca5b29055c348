//! `tim`: Tencent Cloud Chat's push-to-all REST API from the command line. See `tim --help`.

fn main() -> std::process::ExitCode {
    tim_cli::main()
}
