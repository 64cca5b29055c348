//! Concurrent writers on the same accounts never lose an update.

use std::sync::Arc;

use serde_json::json;
use tim_emulator::Emulator;

use crate::support::Api;

const WRITERS: usize = 8;
const TAGS_PER_WRITER: usize = 10;
const USERS: [&str; 4] = ["shared1", "shared2", "shared3", "shared4"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_add_and_remove_lose_nothing() {
    let api = Arc::new(Api::start(Emulator::builder().with_rate_limits(false)).await);
    api.ok("im_set_attr_name", json!({"AttrNames": {"0": "a0", "1": "a1", "2": "a2", "3": "a3", "4": "a4", "5": "a5", "6": "a6", "7": "a7"}})).await;
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            // Every writer adds its own tags one request at a time to all shared users, then
            // removes its odd ones, interleaved with everyone else's writes.
            for i in 0..TAGS_PER_WRITER {
                let entries: Vec<_> = USERS
                    .iter()
                    .map(|u| json!({"To_Account": u, "Tags": [format!("w{w}-t{i}")]}))
                    .collect();
                api.ok("im_add_tag", json!({ "UserTags": entries })).await;
                let attrs: Vec<_> = USERS
                    .iter()
                    .map(|u| json!({"To_Account": u, "Attrs": {format!("a{w}"): format!("v{i}")}}))
                    .collect();
                api.ok("im_set_attr", json!({ "UserAttrs": attrs })).await;
            }
            for i in (1..TAGS_PER_WRITER).step_by(2) {
                let entries: Vec<_> = USERS
                    .iter()
                    .map(|u| json!({"To_Account": u, "Tags": [format!("w{w}-t{i}")]}))
                    .collect();
                api.ok("im_remove_tag", json!({ "UserTags": entries }))
                    .await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("writer finished");
    }
    let state = api.emu().state();
    for user in USERS {
        let account = &state.all_member_push.users[user];
        let mut tags = account.tags.clone();
        tags.sort();
        let mut expected: Vec<String> = (0..WRITERS)
            .flat_map(|w| {
                (0..TAGS_PER_WRITER)
                    .step_by(2)
                    .map(move |i| format!("w{w}-t{i}"))
            })
            .collect();
        expected.sort();
        assert_eq!(tags, expected, "{user}");
        for w in 0..WRITERS {
            assert_eq!(
                account.attrs[&format!("a{w}")],
                format!("v{}", TAGS_PER_WRITER - 1),
                "{user} a{w}"
            );
        }
    }
    // Every call was answered and logged.
    let calls = WRITERS * (TAGS_PER_WRITER * 2 + TAGS_PER_WRITER / 2) + 1;
    assert_eq!(api.emu().requests().len(), calls);
}
