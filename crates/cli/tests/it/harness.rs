//! An emulator on a background runtime, and a way to run `tim` against it.

use std::process::{Command, Output, Stdio};

use tim_emulator::{EmulatorHandle, StateSnapshot};

pub(crate) const KEY: &str = "e2e-secret-key-0123456789abcdef";
pub(crate) const SDKAPPID: u64 = 1_400_000_001;

/// An emulator served by its own runtime thread for the whole test.
pub(crate) struct Emu {
    handle: Option<EmulatorHandle>,
    runtime: tokio::runtime::Runtime,
}

impl Emu {
    pub(crate) fn start(rate_limits: bool) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let handle = runtime.block_on(async {
            tim_emulator::Emulator::builder()
                .with_sdkappid(SDKAPPID)
                .with_key(tim_core::SecretKey::new(KEY))
                .with_rate_limits(rate_limits)
                .start()
                .await
                .unwrap()
        });
        Self {
            handle: Some(handle),
            runtime,
        }
    }

    pub(crate) fn handle(&self) -> &EmulatorHandle {
        self.handle.as_ref().unwrap()
    }

    pub(crate) fn state(&self) -> StateSnapshot {
        self.handle().state()
    }

    /// `tim` with the emulator's endpoint and credentials in its environment.
    pub(crate) fn tim(&self) -> Command {
        let mut c = tim();
        c.env("TIM_ENDPOINT", self.handle().base_url())
            .env("TIM_SDKAPPID", SDKAPPID.to_string())
            .env("TIM_SECRET_KEY", KEY);
        c
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.runtime.block_on(h.shutdown());
        }
    }
}

/// `tim` with a clean environment (no TIM_* from the caller).
pub(crate) fn tim() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tim"));
    for var in [
        "TIM_SDKAPPID",
        "TIM_SECRET_KEY",
        "TIM_IDENTIFIER",
        "TIM_USERSIG",
        "TIM_REGION",
        "TIM_ENDPOINT",
        "TIM_TRANSPORT",
        "TIM_RATE_LIMIT_REDIS",
    ] {
        c.env_remove(var);
    }
    c.stdin(Stdio::null());
    c
}

pub(crate) fn run(c: &mut Command) -> Output {
    c.output().expect("tim runs")
}

pub(crate) fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is JSON ({e}): {}", stdout(o)))
}

pub(crate) fn tmp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tim-cli-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}
