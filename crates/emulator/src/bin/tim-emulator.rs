//! `tim-emulator`: runs the emulator until Ctrl-C or SIGTERM.
//!
//! ```text
//! tim-emulator [--port N] [--bind ADDR] [--sdkappid N] [--admin ID]... [--account ID]...
//!              [--no-rate-limit] [--daily-push-quota N] [--state FILE]
//!              [--fault KIND=RATE]... [--latency-ms N] [--seed N]
//! ```
//!
//! The secret key is read from `TIM_EMULATOR_KEY` (default: the well-known emulator key) and is
//! never printed. The first line on stdout is `listening on http://HOST:PORT`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tim_core::SecretKey;
use tim_emulator::{Config, Emulator, FaultSpec};

const USAGE: &str = "usage: tim-emulator [--port N] [--bind ADDR] [--sdkappid N] [--admin ID]... [--account ID]... [--no-rate-limit] [--daily-push-quota N] [--state FILE] [--fault KIND=RATE]... [--latency-ms N] [--seed N]\n(secret key from TIM_EMULATOR_KEY)";

fn parse(args: impl IntoIterator<Item = String>) -> Result<Config, String> {
    let mut config = Config::default();
    let mut admins = Vec::new();
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--port" => {
                let port = value("--port")?;
                config
                    .bind
                    .set_port(port.parse().map_err(|_| format!("bad port {port:?}"))?);
            }
            "--bind" => {
                let addr = value("--bind")?;
                config.bind = addr.parse().map_err(|_| format!("bad address {addr:?}"))?;
            }
            "--sdkappid" => {
                let v = value("--sdkappid")?;
                config.sdkappid = v.parse().map_err(|_| format!("bad sdkappid {v:?}"))?;
            }
            "--admin" => admins.push(value("--admin")?),
            "--account" => config.accounts.push(value("--account")?),
            "--no-rate-limit" => config.rate_limits = false,
            "--daily-push-quota" => {
                let v = value("--daily-push-quota")?;
                config.daily_push_quota = v.parse().map_err(|_| format!("bad quota {v:?}"))?;
            }
            "--state" => config.state_file = Some(value("--state")?.into()),
            "--fault" => config.faults.push(
                value("--fault")?
                    .parse::<FaultSpec>()
                    .map_err(|e| e.to_string())?,
            ),
            "--latency-ms" => {
                let v = value("--latency-ms")?;
                config.latency =
                    Duration::from_millis(v.parse().map_err(|_| format!("bad latency {v:?}"))?);
            }
            "--seed" => {
                let v = value("--seed")?;
                config.seed = v.parse().map_err(|_| format!("bad seed {v:?}"))?;
            }
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if !admins.is_empty() {
        config.admins = admins;
    }
    if let Ok(key) = std::env::var("TIM_EMULATOR_KEY") {
        config.key = SecretKey::new(key);
    }
    Ok(config)
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let served = Emulator::serve(config, |emu| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "listening on {}", emu.base_url());
        let _ = out.flush();
    })
    .await;
    if let Err(e) = served {
        eprintln!("tim-emulator: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
