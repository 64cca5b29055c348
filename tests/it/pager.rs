//! Pagers follow the service's continuation fields to the end, against the emulator.

use futures_util::StreamExt;
use tim_core::common::{MsgElement, TextElem};
use tim_core::openim::{GetRoamMsgRequest, ImportMsgRequest};

/// An emulator with accounts ann and bob, and a client of it.
async fn emulator_and_client() -> (tim_emulator::EmulatorHandle, tim_reqwest::Client) {
    let emu = tim_emulator::Emulator::builder()
        .with_rate_limits(false)
        .with_accounts(["ann", "bob"])
        .start()
        .await
        .unwrap();
    let client = tim_reqwest::Client::builder()
        .with_sdkappid(emu.sdkappid())
        .with_secret_key(emu.key().clone())
        .with_identifier(emu.admin())
        .with_base_url_str(emu.base_url())
        .build()
        .unwrap();
    (emu, client)
}

#[tokio::test]
async fn roam_messages_follows_last_msg_key_to_the_end_newest_first() {
    let (emu, client) = emulator_and_client().await;
    for i in 0..25u32 {
        let (from, to) = if i % 2 == 0 {
            ("ann", "bob")
        } else {
            ("bob", "ann")
        };
        let body = [MsgElement::Text(TextElem::new(format!("m{i}")))];
        let mut req =
            ImportMsgRequest::new(2, from, to, 1000 + i, 1_600_000_000 + i64::from(i), body);
        req.msg_seq = Some(i + 1);
        client.openim().import_msg(req).await.unwrap();
    }
    emu.clear_requests();
    let request = GetRoamMsgRequest::new("ann", "bob", 10, 0, 1_700_000_000);
    let texts: Vec<String> = client
        .roam_messages(request)
        .map(|m| {
            let m = m.unwrap();
            m.msg_body[0]["MsgContent"]["Text"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
        .await;
    let expected: Vec<String> = (0..25).rev().map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected, "every message once, newest first");
    assert_eq!(emu.requests().len(), 3, "pages of 10, 10 and 5");
}

/// A partial success (`ActionStatus: SomeError`, `ErrorCode` 0) decodes as the answer, whose
/// per-recipient list says who did not get the message.
#[tokio::test]
async fn a_partial_batch_send_decodes_with_its_failures() {
    let (_emu, client) = emulator_and_client().await;
    let req = tim_core::openim::BatchSendMsgRequest::new(
        ["ann", "ghost", "bob"],
        7,
        [MsgElement::Text(TextElem::new("hi"))],
    );
    let answer = client.openim().batch_send_msg(req).await.unwrap();
    assert!(answer.msg_key.is_some());
    assert_eq!(answer.error_list.len(), 1);
    assert_eq!(answer.error_list[0].to_account, "ghost");
    assert_eq!(answer.error_list[0].code, 70107);
}
