//! A throwaway `redis-server` on a free loopback port, killed when dropped.

use std::io::{ErrorKind, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct RedisServer {
    child: Option<Child>,
    pub(crate) port: u16,
    password: Option<String>,
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl RedisServer {
    /// Starts a server (with `requirepass` when a password is given), or prints why the test is
    /// skipped and answers `None` when `redis-server` is not installed.
    pub(crate) fn start(test: &str, password: Option<&str>) -> Option<Self> {
        let port = free_port();
        let mut server = RedisServer {
            child: None,
            port,
            password: password.map(str::to_owned),
        };
        if !server.spawn() {
            // Written to stderr directly (not `eprintln!`, which the test harness captures), so
            // that the skip shows in every test run.
            let _ = writeln!(
                std::io::stderr(),
                "!!!!! SKIPPED {test}: `redis-server` is not on PATH (install it, e.g. `apt-get install redis-server`; .ci/run does) !!!!!"
            );
            return None;
        }
        Some(server)
    }

    fn spawn(&mut self) -> bool {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(p) = &self.password {
            cmd.args(["--requirepass", p]);
        }
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) if e.kind() == ErrorKind::NotFound => return false,
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        true
    }

    /// The URL, with the password if there is one.
    pub(crate) fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
