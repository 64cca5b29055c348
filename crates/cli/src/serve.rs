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
    c.push_spacing = !a.no_push_spacing;
    c.daily_push_quota = a.daily_push_quota;
    c.state_file = a.state.clone();
    for f in &a.faults {
        let spec: FaultSpec = f
            .parse()
            .map_err(|e| Failure::Usage(format!("--fault {f}: {e}")))?;
        c.faults.push(spec);
    }
    c.latency = Duration::from_millis(a.latency_ms);
    c.strict = a.strict;
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
        let _ = writeln!(out, "tim emulator: listening on {}", emu.base_url());
        if default_key {
            // The default key is public (it protects a loopback test server): print it, ready
            // to paste. A key the user chose is never printed.
            let _ = writeln!(
                out,
                "  TIM_ENDPOINT={} TIM_SDKAPPID={} TIM_IDENTIFIER={} TIM_SECRET_KEY={}",
                emu.base_url(),
                emu.sdkappid(),
                emu.admin(),
                tim_emulator::DEFAULT_KEY
            );
            let _ = writeln!(
                out,
                "  key: the emulator's well-known default key above (not a secret); pass --key to choose one"
            );
        } else {
            let _ = writeln!(
                out,
                "  TIM_ENDPOINT={} TIM_SDKAPPID={} TIM_IDENTIFIER={}",
                emu.base_url(),
                emu.sdkappid(),
                emu.admin()
            );
            let _ = writeln!(
                out,
                "  key: the one you passed (--key / TIM_SECRET_KEY), not printed"
            );
        }
        let c = emu.config();
        let limits = match (c.rate_limits, c.push_spacing) {
            (true, true) => None,
            (false, true) => Some(
                "rate limits off (--no-rate-limit); pushes must still be more than 1 s apart (--no-push-spacing drops that)",
            ),
            (true, false) => Some("pushes may be less than 1 s apart (--no-push-spacing)"),
            (false, false) => Some(
                "rate limits off (--no-rate-limit); pushes may be less than 1 s apart (--no-push-spacing)",
            ),
        };
        if let Some(limits) = limits {
            let _ = writeln!(out, "  {limits}");
        }
        let _ = writeln!(
            out,
            "  inspect: {}/__emulator/state, /__emulator/requests, /__emulator/events, /__emulator/endpoints; Ctrl-C stops",
            emu.base_url()
        );
        let _ = out.flush();
    })
    .await
    .map_err(|e| Failure::Transport(format!("emulator: {e}")))
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use crate::args::{Cli, Command, EmulatorCmd};

    fn config(argv: &[&str]) -> tim_emulator::Config {
        let cli = Cli::try_parse_from(argv).unwrap();
        let Command::Emulator(EmulatorCmd::Serve(a)) = &cli.command else {
            panic!("{argv:?}")
        };
        super::config(&cli.global, a).unwrap()
    }

    #[test]
    fn no_rate_limit_keeps_the_push_spacing_unless_told() {
        let c = config(&["tim", "emulator", "serve"]);
        assert!(c.rate_limits && c.push_spacing);
        let c = config(&["tim", "emulator", "serve", "--no-rate-limit"]);
        assert!(!c.rate_limits && c.push_spacing);
        let c = config(&[
            "tim",
            "emulator",
            "serve",
            "--no-rate-limit",
            "--no-push-spacing",
        ]);
        assert!(!c.rate_limits && !c.push_spacing);
        let c = config(&["tim", "emulator", "serve", "--no-push-spacing"]);
        assert!(c.rate_limits && !c.push_spacing);
        assert_eq!(c.push_dedup_window, tim_emulator::PUSH_DEDUP_WINDOW);
    }
}
