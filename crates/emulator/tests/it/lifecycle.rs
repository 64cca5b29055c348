//! Starting, stopping, and the limits of the HTTP layer.

use std::time::{Duration, Instant};

use serde_json::json;
use tim_emulator::{ConfigError, Emulator, StartError};

use crate::support::{Api, code};

async fn refused(addr: std::net::SocketAddr) -> bool {
    tokio::net::TcpStream::connect(addr).await.is_err()
}

#[tokio::test]
async fn shutdown_and_drop_close_the_port() {
    let api = Api::start(Emulator::builder()).await;
    api.ok("im_get_tag", json!({"To_Account": ["u"]})).await; // leaves a keep-alive connection
    let addr = api.emu().addr();
    let Api { emu, client, .. } = api;
    emu.expect("emulator").shutdown().await;
    assert!(refused(addr).await, "no longer listening after shutdown()");
    drop(client);

    let emu = Emulator::builder().start().await.unwrap();
    let addr = emu.addr();
    drop(emu);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !refused(addr).await {
        assert!(Instant::now() < deadline, "still listening 5 s after drop");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn bad_configurations_do_not_start() {
    let err = Emulator::builder()
        .with_fault("internal-error=0.6".parse().unwrap())
        .with_fault("bad-gateway=0.6".parse().unwrap())
        .start()
        .await
        .unwrap_err();
    assert!(
        matches!(err, StartError::Config(ConfigError::FaultRatesAboveOne(_))),
        "{err}"
    );
    let taken = Emulator::builder().start().await.unwrap();
    let err = Emulator::builder()
        .with_bind(taken.addr())
        .start()
        .await
        .unwrap_err();
    assert!(matches!(err, StartError::Bind { .. }), "{err}");
}

#[test]
fn handles_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<tim_emulator::EmulatorHandle>();
    send_sync::<tim_emulator::Config>();
}

#[tokio::test]
async fn builder_settings_are_used() {
    let emu = Emulator::builder()
        .with_sdkappid(1_400_123_456)
        .with_key(tim_core::SecretKey::new("k"))
        .with_admin("root")
        .with_admin("ops")
        .start()
        .await
        .unwrap();
    assert_eq!(
        (emu.sdkappid(), emu.admin(), emu.admins().len()),
        (1_400_123_456, "root", 2)
    );
    assert_eq!(emu.key().expose(), "k");
    let debug = format!("{emu:?}");
    assert!(
        debug.contains("1400123456") && !debug.contains("\"k\""),
        "{debug}"
    );
    assert_eq!(emu.signer().sdkappid(), 1_400_123_456);
}

#[tokio::test]
async fn oversized_bodies_get_93000() {
    let api = Api::start(Emulator::builder().with_rate_limits(false)).await;
    let huge = format!("{{\"To_Account\":[\"{}\"]}}", "x".repeat(1024 * 1024));
    let v = api.post_bytes("im_get_tag", &api.query(), huge).await;
    assert_eq!(code(&v), 93000, "{v}");
}
