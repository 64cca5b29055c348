//! `tim emulator serve`.

use std::time::Duration;

use tim_core::SecretKey;
use tim_emulator::{Config, Emulator, FaultSpec};

use crate::Failure;
use crate::args::{Global, ServeArgs};

/// The emulator's configuration from the command line.
pub(crate) fn config(g: &Global, a: &ServeArgs) -> Result<Config, Failure> {
    let mut c = Config::default();
    c.bind.set_port(a.port);
    if let Some(id) = g.sdkappid {
        c.sdkappid = id;
    }
    if let Some(key) = g.key.as_ref().filter(|k| !k.is_empty()) {
        c.key = SecretKey::new(key.clone());
    }
    c.admins = if a.admins.is_empty() {
        vec![g.identifier.clone()]
    } else {
        a.admins.clone()
    };
    c.rate_limits = !a.no_rate_limit;
    c.daily_push_quota = a.daily_push_quota;
    c.state_file = a.state.clone();
    for f in &a.faults {
        let spec: FaultSpec = f
            .parse()
            .map_err(|e| Failure::Usage(format!("--fault {f}: {e}")))?;
        c.faults.push(spec);
    }
    c.latency = Duration::from_millis(a.latency_ms);
    c.check().map_err(|e| Failure::Usage(e.to_string()))?;
    Ok(c)
}

/// Serves until Ctrl-C or SIGTERM.
pub(crate) async fn run(g: &Global, a: &ServeArgs) -> Result<(), Failure> {
    let config = config(g, a)?;
    let default_key = g.key.as_deref().is_none_or(str::is_empty);
    Emulator::serve(config, move |emu| {
        // Written without println!: a reader that goes away (`| head -1`) must not stop the
        // server.
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let key = if default_key {
            "the emulator's well-known default (tim_emulator::DEFAULT_KEY); pass --key to choose one"
        } else {
            "the one you passed (--key / TIM_SECRET_KEY)"
        };
        let _ = writeln!(out, "tim emulator: listening on {}", emu.base_url());
        let _ = writeln!(
            out,
            "  TIM_ENDPOINT={} TIM_SDKAPPID={} TIM_IDENTIFIER={}",
            emu.base_url(),
            emu.sdkappid(),
            emu.admin()
        );
        let _ = writeln!(out, "  key: {key}");
        let _ = writeln!(
            out,
            "  inspect: {}/__emulator/state, /__emulator/pushes, /__emulator/requests; Ctrl-C stops",
            emu.base_url()
        );
        let _ = out.flush();
    })
    .await
    .map_err(|e| Failure::Transport(format!("emulator: {e}")))
}
