//! `tim demo`: a tour of every endpoint, with the real client, against an emulator started
//! in-process on loopback.

use std::collections::BTreeMap;

use serde::Serialize;
use tim_core::all_member_push::{
    AddTag, AddTagRequest, GetAttr, GetAttrName, GetAttrNameRequest, GetAttrRequest, GetTag,
    GetTagRequest, Push, PushRequest, RemoveAllTags, RemoveAllTagsRequest, RemoveAttr,
    RemoveAttrRequest, RemoveTag, RemoveTagRequest, SetAttr, SetAttrName, SetAttrNameRequest,
    SetAttrRequest,
};
use tim_core::im_open_login_svc::{
    AccountCheck, AccountCheckRequest, AccountDelete, AccountDeleteRequest, AccountIdItem,
    AccountImport, AccountImportItem, AccountImportRequest, Kick, KickRequest, MultiAccountImport,
    MultiAccountImportRequest,
};
use tim_core::openim::{
    BatchSendMsg, BatchSendMsgRequest, GetC2cUnreadMsgNum, GetC2cUnreadMsgNumRequest, GetRoamMsg,
    GetRoamMsgRequest, ImportMsg, ImportMsgRequest, ModifyC2cMsg, ModifyC2cMsgRequest,
    QueryOnlineStatus, QueryOnlineStatusRequest, SendMsg, SendMsgRequest, SetMsgRead,
    SetMsgReadRequest, WithdrawMsg, WithdrawMsgRequest,
};
use tim_core::openim_msg_ext_http_svc::{
    GetKeyValues, GetKeyValuesRequest, MsgExtension, SetKeyValues, SetKeyValuesRequest,
};
use tim_core::profile::{
    PortraitGet, PortraitGetRequest, PortraitSet, PortraitSetRequest, ProfileItem, ProfileTag,
};
use tim_core::{BaseUrl, Client, ClientBuilder, Endpoint, MakeTransport, Transport};
use tim_core::{
    all_member_push::{PushCondition, UserAttrsRemove, UserAttrsSet, UserTagItem, UserTags},
    common::{MsgElement, TextElem},
};

use crate::Failure;
use crate::client::failure;

fn pretty(v: &impl Serialize) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

#[allow(clippy::print_stdout)]
async fn step<E: Endpoint, T: Transport>(
    client: &Client<T>,
    n: &mut u32,
    what: &str,
    request: E::Request,
) -> Result<E::Response, Failure> {
    *n += 1;
    println!("\n── {n}. {what}");
    println!("  → POST {}", E::INFO.path());
    print!("{}", indent(&pretty(&request)));
    let response = client.call::<E>(request).await.map_err(|e| failure(&e))?;
    println!("  ← answer");
    print!("{}", indent(&pretty(&response)));
    Ok(response)
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn text(t: &str) -> MsgElement {
    MsgElement::Text(TextElem::new(t))
}

/// Runs the tour with transport `T`.
#[allow(clippy::print_stdout)]
pub(crate) async fn run<T: Transport + MakeTransport>() -> Result<(), Failure> {
    let emu = tim_emulator::Emulator::builder()
        .start()
        .await
        .map_err(|e| Failure::Transport(format!("cannot start the emulator: {e}")))?;
    let base = BaseUrl::parse(emu.base_url()).map_err(|e| Failure::Usage(e.to_string()))?;
    let client = ClientBuilder::<T>::new()
        .with_sdkappid(emu.sdkappid())
        .with_secret_key(emu.key().clone())
        .with_identifier(emu.admin())
        .with_base_url(base)
        .build()
        .map_err(|e| Failure::Usage(format!("cannot build the client: {e}")))?;
    println!(
        "tim demo: an emulator of the REST API is listening on {}",
        emu.base_url()
    );
    println!(
        "(SDKAppID {}, admin {:?}; every call below goes over HTTP with a real UserSig)",
        emu.sdkappid(),
        emu.admin()
    );

    let mut n = 0;
    step::<AccountImport, T>(
        &client,
        &mut n,
        "Import alice with her nickname and photo",
        {
            let mut r = AccountImportRequest::new("alice");
            r.nick = Some("Alice".into());
            r.face_url = Some("https://example.com/alice.png".into());
            r
        },
    )
    .await?;
    step::<MultiAccountImport, T>(
        &client,
        &mut n,
        "Import bob, carol and dave in one call",
        MultiAccountImportRequest::new().with_account_list([
            AccountImportItem::new("bob"),
            AccountImportItem::new("carol"),
            AccountImportItem::new("dave"),
        ]),
    )
    .await?;
    step::<AccountCheck, T>(
        &client,
        &mut n,
        "Check who is imported (erin is not)",
        AccountCheckRequest::new(["alice", "erin"].map(AccountIdItem::new)),
    )
    .await?;
    step::<PortraitSet, T>(
        &client,
        &mut n,
        "Set bob's nickname and level (profile fields are checked by tag before sending)",
        PortraitSetRequest::new(
            "bob",
            [
                ProfileItem::new(ProfileTag::Nick.wire(), "Bob".into()),
                ProfileItem::new(ProfileTag::Level.wire(), 3.into()),
            ],
        ),
    )
    .await?;
    step::<PortraitGet, T>(
        &client,
        &mut n,
        "Read alice's and bob's nicknames",
        PortraitGetRequest::new(["alice", "bob"], [ProfileTag::Nick.wire()]),
    )
    .await?;
    step::<QueryOnlineStatus, T>(
        &client,
        &mut n,
        "Who is online (nobody has logged in from a client yet)",
        QueryOnlineStatusRequest::new(["alice", "bob"]),
    )
    .await?;
    let sent = step::<SendMsg, T>(
        &client,
        &mut n,
        "Alice sends Bob a message",
        SendMsgRequest::new("bob", client.new_msg_random(), [text("Hi Bob!")])
            .with_from_account("alice"),
    )
    .await?;
    step::<BatchSendMsg, T>(
        &client,
        &mut n,
        "The admin sends one message to Alice, Bob and Carol",
        BatchSendMsgRequest::new(
            ["alice", "bob", "carol"],
            client.new_msg_random(),
            [text("Welcome!")],
        ),
    )
    .await?;
    step::<ImportMsg, T>(
        &client,
        &mut n,
        "Import an old message from Bob to Alice (history from another system)",
        ImportMsgRequest::new(
            2,
            "bob",
            "alice",
            client.new_msg_random(),
            1_600_000_000,
            [text("Hello from 2020")],
        ),
    )
    .await?;
    step::<GetC2cUnreadMsgNum, T>(
        &client,
        &mut n,
        "How many messages Bob has not read",
        GetC2cUnreadMsgNumRequest::new("bob"),
    )
    .await?;
    step::<SetMsgRead, T>(
        &client,
        &mut n,
        "Bob reads Alice's messages",
        SetMsgReadRequest::new("bob", "alice"),
    )
    .await?;
    let msg_key = sent.msg_key.clone().unwrap_or_default();
    step::<ModifyC2cMsg, T>(
        &client,
        &mut n,
        "Edit Alice's message",
        ModifyC2cMsgRequest::new("alice", "bob", msg_key.clone())
            .with_msg_body([text("Hi Bob! (edited)")]),
    )
    .await?;
    let poll = step::<SendMsg, T>(
        &client,
        &mut n,
        "Alice sends a poll that accepts extensions",
        SendMsgRequest::new("bob", client.new_msg_random(), [text("Lunch at noon?")])
            .with_from_account("alice")
            .with_support_message_extension(1),
    )
    .await?;
    let poll_key = poll.msg_key.unwrap_or_default();
    step::<SetKeyValues, T>(
        &client,
        &mut n,
        "Bob answers the poll in an extension",
        SetKeyValuesRequest::new("bob", poll_key.clone(), 1)
            .with_from_account("alice")
            .with_extension_list([MsgExtension::new("bob", "yes")]),
    )
    .await?;
    step::<GetKeyValues, T>(
        &client,
        &mut n,
        "Read the poll's extensions",
        GetKeyValuesRequest::new("bob", poll_key).with_from_account("alice"),
    )
    .await?;
    step::<GetRoamMsg, T>(
        &client,
        &mut n,
        "Read Alice and Bob's conversation back",
        GetRoamMsgRequest::new("alice", "bob", 20, 0, 4_102_444_800),
    )
    .await?;
    step::<WithdrawMsg, T>(
        &client,
        &mut n,
        "Recall Alice's message",
        WithdrawMsgRequest::new("alice", "bob", msg_key),
    )
    .await?;
    step::<Kick, T>(
        &client,
        &mut n,
        "Kick dave (end every login of his)",
        KickRequest::new("dave"),
    )
    .await?;
    step::<AccountDelete, T>(
        &client,
        &mut n,
        "Delete dave: he is gone from every service",
        AccountDeleteRequest::new([AccountIdItem::new("dave")]),
    )
    .await?;
    step::<SetAttrName, T>(
        &client,
        &mut n,
        "Name two attribute slots: 0 is \"city\", 1 is \"plan\"",
        SetAttrNameRequest::new([("0", "city"), ("1", "plan")]),
    )
    .await?;
    step::<GetAttrName, T>(
        &client,
        &mut n,
        "Read the slot names back",
        GetAttrNameRequest::new(),
    )
    .await?;
    step::<SetAttr, T>(
        &client,
        &mut n,
        "Set attributes for alice, bob and carol",
        SetAttrRequest::new([
            UserAttrsSet::new("alice", attrs(&[("city", "Shenzhen"), ("plan", "pro")])),
            UserAttrsSet::new("bob", attrs(&[("city", "Beijing"), ("plan", "free")])),
            UserAttrsSet::new("carol", attrs(&[("city", "Shenzhen"), ("plan", "free")])),
        ]),
    )
    .await?;
    step::<GetAttr, T>(
        &client,
        &mut n,
        "Read their attributes",
        GetAttrRequest::new(["alice", "bob", "carol"]),
    )
    .await?;
    step::<AddTag, T>(
        &client,
        &mut n,
        "Tag them: alice vip+beta, bob beta, carol vip",
        AddTagRequest::new([
            UserTagItem::new("alice", ["vip", "beta"].map(String::from)),
            UserTagItem::new("bob", ["beta".to_string()]),
            UserTagItem::new("carol", ["vip".to_string()]),
        ]),
    )
    .await?;
    step::<GetTag, T>(
        &client,
        &mut n,
        "Read their tags",
        GetTagRequest::new(["alice", "bob", "carol"]),
    )
    .await?;

    let by_tag = PushRequest::new(client.new_msg_random(), [text("Flash sale for VIPs")])
        .with_condition(PushCondition::default().with_tags_and(["vip"]))
        .with_msg_life_time(3_600);
    let tag_push = step::<Push, T>(&client, &mut n, "Push to the users tagged vip", by_tag).await?;
    let by_attr = PushRequest::new(client.new_msg_random(), [text("Hello, Beijing")])
        .with_condition(PushCondition::default().with_attrs_or(attrs(&[("city", "Beijing")])));
    let attr_push = step::<Push, T>(
        &client,
        &mut n,
        "Push to the users whose city is Beijing (the client keeps pushes more than 1 s apart)",
        by_attr,
    )
    .await?;

    n += 1;
    println!("\n── {n}. Who received each push (from the emulator's record)");
    for record in emu.pushes() {
        let which = if record.task_id == tag_push.task_id {
            "tag push"
        } else if record.task_id == attr_push.task_id {
            "attribute push"
        } else {
            "other push"
        };
        println!(
            "    {which} {}: {}",
            record.task_id,
            record.recipients.join(", ")
        );
    }

    step::<RemoveTag, T>(
        &client,
        &mut n,
        "Remove alice's beta tag",
        RemoveTagRequest::new([UserTags::new("alice", ["beta".to_string()])]),
    )
    .await?;
    step::<RemoveAttr, T>(
        &client,
        &mut n,
        "Remove carol's plan attribute",
        RemoveAttrRequest::new([UserAttrsRemove::new("carol", ["plan".to_string()])]),
    )
    .await?;
    step::<RemoveAllTags, T>(
        &client,
        &mut n,
        "Remove all of bob's tags",
        RemoveAllTagsRequest::new(["bob"]),
    )
    .await?;
    step::<GetTag, T>(
        &client,
        &mut n,
        "Read the tags again",
        GetTagRequest::new(["alice", "bob", "carol"]),
    )
    .await?;
    step::<GetAttr, T>(
        &client,
        &mut n,
        "Read the attributes again",
        GetAttrRequest::new(["alice", "bob", "carol"]),
    )
    .await?;
    println!(
        "\nDone: {} calls. The emulator stops with this program.",
        n - 1
    );
    emu.shutdown().await;
    Ok(())
}
