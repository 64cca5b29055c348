//! `tim`: Tencent Cloud Chat's push-to-all REST API from the command line.
//!
//! The binary is a thin `main` over [`main`] here; the library exists so that benchmarks and
//! fuzz targets can reach the bulk input parser ([`bulk_input`]). Its API is not stable.

use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Parser;
use serde_json::json;
use tim_core::{SecretKey, usersig};

mod args;
mod bulk;
pub mod bulk_input;
mod checkpoint;
mod client;
mod commands;
mod demo;
mod json_paths;
mod serve;

use args::{Cli, Command, EmulatorCmd, FamilyCmd, Global, TransportKind, UsersigCmd};
use tim_core::{MakeTransport, Transport};

/// How a command ended; each maps to a documented exit code.
#[derive(Debug)]
pub(crate) enum Failure {
    /// 1: the API answered an error (the answer was printed).
    Api(String),
    /// 2: bad usage or input refused before sending.
    Usage(String),
    /// 3: transport or decoding failure.
    Transport(String),
    /// 4: a bulk job finished with failed items.
    BulkFailed(String),
    /// 130: a bulk job stopped on Ctrl-C or SIGTERM (after committing what it did).
    Interrupted(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Api(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Transport(_) => 3,
            Failure::BulkFailed(_) => 4,
            Failure::Interrupted(_) => 130,
        }
    }

    fn message(&self) -> &str {
        match self {
            Failure::Api(m)
            | Failure::Usage(m)
            | Failure::Transport(m)
            | Failure::BulkFailed(m)
            | Failure::Interrupted(m) => m,
        }
    }
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Prints a value as pretty JSON on stdout. A reader that went away (`| head`) is not an error.
pub(crate) fn print_json(value: &impl serde::Serialize) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, value);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Prints a value as one line of JSON on stdout (JSON Lines).
pub(crate) fn print_json_line(value: &impl serde::Serialize) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, value);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn require_sdkappid(g: &Global) -> Result<u64, Failure> {
    g.sdkappid
        .ok_or_else(|| Failure::Usage("--sdkappid (or TIM_SDKAPPID) is required".into()))
}

fn require_key(g: &Global) -> Result<SecretKey, Failure> {
    g.key
        .clone()
        .filter(|k| !k.is_empty())
        .map(SecretKey::new)
        .ok_or_else(|| Failure::Usage("--key (or TIM_SECRET_KEY) is required".into()))
}

#[allow(clippy::print_stdout)]
fn usersig_cmd(g: &Global, cmd: &UsersigCmd) -> Result<(), Failure> {
    let sdkappid = require_sdkappid(g)?;
    let key = require_key(g)?;
    match cmd {
        UsersigCmd::Gen { expire, time } => {
            if *expire == 0 {
                return Err(Failure::Usage("--expire must be at least 1 second".into()));
            }
            let time = time.unwrap_or_else(now_unix);
            let sig = usersig::generate(sdkappid, &key, &g.identifier, time, *expire);
            // The one place tim prints a UserSig: it is what the user asked for, on stdout.
            println!("{}", sig.expose());
            Ok(())
        }
        UsersigCmd::Verify { sig } => {
            let sig = if sig == "-" {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map_err(|e| {
                    Failure::Usage(format!("cannot read the UserSig from stdin: {e}"))
                })?;
                s
            } else {
                sig.clone()
            };
            let now = now_unix();
            match usersig::verify(sig.trim(), sdkappid, &g.identifier, &key, now) {
                Ok(c) => {
                    print_json(&json!({
                        "valid": true,
                        "version": c.version,
                        "identifier": c.identifier,
                        "sdkappid": c.sdkappid,
                        "time": c.time,
                        "expire": c.expire,
                        "expires_at": c.expires_at(),
                        "seconds_left": c.expires_at().saturating_sub(now),
                        "has_userbuf": c.userbuf.is_some(),
                    }));
                    Ok(())
                }
                Err(e) => {
                    let reason = match &e {
                        usersig::VerifyError::Malformed(_) => "malformed",
                        usersig::VerifyError::SdkAppIdMismatch { .. } => "sdkappid_mismatch",
                        usersig::VerifyError::IdentifierMismatch { .. } => "identifier_mismatch",
                        usersig::VerifyError::BadSignature => "bad_signature",
                        usersig::VerifyError::Expired { .. } => "expired",
                        _ => "invalid",
                    };
                    print_json(
                        &json!({ "valid": false, "reason": reason, "detail": e.to_string() }),
                    );
                    Err(Failure::Api(format!("UserSig is not valid: {e}")))
                }
            }
        }
    }
}

/// `tim call ENDPOINT [BODY]` with transport `T`.
async fn call<T: Transport + MakeTransport>(
    g: &Global,
    args: &args::CallArgs,
) -> Result<(), Failure> {
    let Some(name) = &args.api else {
        return Err(Failure::Usage(
            "name an endpoint (`tim call --list` shows them)".into(),
        ));
    };
    let id = commands::resolve_endpoint(name)?;
    let client = client::build::<T>(g, None).await?;
    commands::call(&client, id, args.body.as_deref()).await
}

/// A typed command of an API family with transport `T`.
async fn family<T: Transport + MakeTransport>(g: &Global, cmd: &FamilyCmd) -> Result<(), Failure> {
    match cmd {
        FamilyCmd::Tags(cmd) => {
            let client = client::build::<T>(g, bulk_args_tags(cmd).max_rate)
                .await?
                .with_batch_concurrency(usize::from(bulk_args_tags(cmd).concurrency));
            commands::tags(&client, cmd, g.quiet).await
        }
        FamilyCmd::Attrs(cmd) => {
            let max_rate = bulk_args_attrs(cmd).and_then(|b| b.max_rate);
            let client = client::build::<T>(g, max_rate).await?;
            commands::attrs(&client, cmd, g.quiet).await
        }
        FamilyCmd::Push(args) => {
            let client = client::build::<T>(g, None).await?;
            commands::push(&client, args).await
        }
        FamilyCmd::Accounts(cmd) => {
            let bulk = match cmd {
                args::AccountsCmd::Import { bulk, .. }
                | args::AccountsCmd::Check { bulk, .. }
                | args::AccountsCmd::Delete { bulk, .. } => bulk,
            };
            let client = client::build::<T>(g, bulk.max_rate)
                .await?
                .with_batch_concurrency(usize::from(bulk.concurrency));
            commands::accounts_cmd(&client, cmd, g.quiet).await
        }
        FamilyCmd::Profile(cmd) => {
            let client = client::build::<T>(g, None).await?;
            commands::profile(&client, cmd).await
        }
        FamilyCmd::Msg(cmd) => {
            let client = client::build::<T>(g, None).await?;
            commands::msg(&client, cmd).await
        }
    }
}

fn bulk_args_tags(cmd: &args::TagsCmd) -> &args::BulkArgs {
    match cmd {
        args::TagsCmd::Get { bulk, .. }
        | args::TagsCmd::Add { bulk, .. }
        | args::TagsCmd::Remove { bulk, .. }
        | args::TagsCmd::Clear { bulk, .. } => bulk,
    }
}

fn bulk_args_attrs(cmd: &args::AttrsCmd) -> Option<&args::BulkArgs> {
    match cmd {
        args::AttrsCmd::Names(_) => None,
        args::AttrsCmd::Get { bulk, .. }
        | args::AttrsCmd::Set { bulk, .. }
        | args::AttrsCmd::Remove { bulk, .. } => Some(bulk),
    }
}

fn init_logging(g: &Global) {
    let level = match (g.quiet, g.verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        (false, 2) => tracing::Level::DEBUG,
        (false, _) => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(level)
        .with_target(false)
        .try_init();
}

fn run(cli: Cli) -> Result<(), Failure> {
    init_logging(&cli.global);
    let g = &cli.global;
    // Commands that need no network run here; the others on a runtime below.
    match &cli.command {
        Command::Usersig(cmd) => return usersig_cmd(g, cmd),
        Command::Call(args) if args.list => {
            commands::list_endpoints();
            return Ok(());
        }
        _ => {}
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Transport(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        match (&cli.command, g.transport) {
            (Command::Usersig(cmd), _) => usersig_cmd(g, cmd),
            (Command::Emulator(EmulatorCmd::Serve(args)), _) => serve::run(g, args).await,
            (Command::Call(args), TransportKind::Reqwest) => {
                call::<tim_reqwest::ReqwestTransport>(g, args).await
            }
            (Command::Call(args), TransportKind::Hyper) => {
                call::<tim_hyper::HyperTransport>(g, args).await
            }
            (Command::Family(cmd), TransportKind::Reqwest) => {
                family::<tim_reqwest::ReqwestTransport>(g, cmd).await
            }
            (Command::Family(cmd), TransportKind::Hyper) => {
                family::<tim_hyper::HyperTransport>(g, cmd).await
            }
            (Command::Demo, TransportKind::Reqwest) => {
                demo::run::<tim_reqwest::ReqwestTransport>().await
            }
            (Command::Demo, TransportKind::Hyper) => demo::run::<tim_hyper::HyperTransport>().await,
        }
    })
}

/// Runs `tim` with the process's arguments and returns its exit code.
#[allow(clippy::print_stderr)]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("tim: {}", f.message());
            ExitCode::from(f.exit_code())
        }
    }
}
