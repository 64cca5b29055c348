//! Every endpoint's success path and its documented error codes.

use serde_json::{Value, json};
use tim_emulator::Emulator;

use crate::support::{Api, code};

async fn api() -> Api {
    Api::start(Emulator::builder().with_rate_limits(false)).await
}

fn accounts(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i}")).collect()
}

#[tokio::test]
async fn attribute_names_set_read_and_rename() {
    let api = api().await;
    let v = api.ok("im_get_attr_name", json!({})).await;
    assert_eq!(v["AttrNames"], json!({}));
    api.ok(
        "im_set_attr_name",
        json!({"AttrNames": {"0": "sex", "1": "city"}}),
    )
    .await;
    api.ok("im_set_attr_name", json!({"AttrNames": {"2": "country"}}))
        .await;
    let v = api.ok("im_get_attr_name", json!({})).await;
    assert_eq!(
        v["AttrNames"],
        json!({"0": "sex", "1": "city", "2": "country"})
    );
    // Renaming a slot keeps the users' values under the new name.
    api.ok(
        "im_set_attr",
        json!({"UserAttrs": [{"To_Account": "u1", "Attrs": {"sex": "F"}}]}),
    )
    .await;
    api.ok("im_set_attr_name", json!({"AttrNames": {"0": "gender"}}))
        .await;
    let v = api.ok("im_get_attr", json!({"To_Account": ["u1"]})).await;
    assert_eq!(
        v["UserAttrs"],
        json!([{"To_Account": "u1", "Attrs": {"gender": "F"}}])
    );
}

#[tokio::test]
async fn attribute_name_errors() {
    let api = api().await;
    let long = "n".repeat(51);
    api.fails("im_set_attr_name", json!({"AttrNames": {"10": "x"}}), 90033)
        .await;
    api.fails("im_set_attr_name", json!({"AttrNames": {"a": "x"}}), 90033)
        .await;
    api.fails("im_set_attr_name", json!({"AttrNames": {"0": long}}), 90033)
        .await;
    api.fails("im_set_attr_name", json!({"AttrNames": {"0": ""}}), 90033)
        .await;
    api.fails(
        "im_set_attr_name",
        json!({"AttrNames": {"0": "x", "1": "x"}}),
        90033,
    )
    .await;
    api.ok("im_set_attr_name", json!({"AttrNames": {"0": "x"}}))
        .await;
    api.fails("im_set_attr_name", json!({"AttrNames": {"1": "x"}}), 90033)
        .await;
    api.fails("im_set_attr_name", json!({}), 90001).await;
    api.fails("im_set_attr_name", json!({"AttrNames": ["x"]}), 90001)
        .await;
    api.ok(
        "im_set_attr_name",
        json!({"AttrNames": {"9": "n".repeat(50)}}),
    )
    .await;
    // A field im_get_attr_name does not take is ignored.
    api.ok("im_get_attr_name", json!({"To_Account": ["u"]}))
        .await;
}

#[tokio::test]
async fn user_attributes_set_read_remove() {
    let api = api().await;
    api.ok(
        "im_set_attr_name",
        json!({"AttrNames": {"0": "sex", "1": "city"}}),
    )
    .await;
    api.ok(
        "im_set_attr",
        json!({"UserAttrs": [
            {"To_Account": "xiaojun012", "Attrs": {"sex": "attr1", "city": "attr2"}},
            {"To_Account": "xiaojun013", "Attrs": {"city": "attr3", "sex": "attr4"}}
        ]}),
    )
    .await;
    let v = api
        .ok(
            "im_get_attr",
            json!({"To_Account": ["xiaojun013", "nobody", "xiaojun012"]}),
        )
        .await;
    assert_eq!(
        v["UserAttrs"],
        json!([
            {"To_Account": "xiaojun013", "Attrs": {"city": "attr3", "sex": "attr4"}},
            {"To_Account": "nobody", "Attrs": {}},
            {"To_Account": "xiaojun012", "Attrs": {"sex": "attr1", "city": "attr2"}}
        ])
    );
    api.ok(
        "im_remove_attr",
        json!({"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": ["sex"]}]}),
    )
    .await;
    let v = api
        .ok("im_get_attr", json!({"To_Account": ["xiaojun012"]}))
        .await;
    assert_eq!(v["UserAttrs"][0]["Attrs"], json!({"city": "attr2"}));
    // Overwrite keeps the other attributes.
    api.ok(
        "im_set_attr",
        json!({"UserAttrs": [{"To_Account": "xiaojun012", "Attrs": {"city": "x"}}]}),
    )
    .await;
    let state = api.emu().state();
    assert_eq!(state.all_member_push.users["xiaojun012"].attrs["city"], "x");
    assert_eq!(state.all_member_push.users["xiaojun013"].attrs.len(), 2);
}

#[tokio::test]
async fn user_attribute_errors() {
    let api = api().await;
    api.ok("im_set_attr_name", json!({"AttrNames": {"0": "sex"}}))
        .await;
    // Names never set with im_set_attr_name.
    api.fails(
        "im_set_attr",
        json!({"UserAttrs": [{"To_Account": "u", "Attrs": {"city": "x"}}]}),
        90033,
    )
    .await;
    api.fails(
        "im_remove_attr",
        json!({"UserAttrs": [{"To_Account": "u", "Attrs": ["city"]}]}),
        90033,
    )
    .await;
    // Value longer than 50 bytes.
    api.fails(
        "im_set_attr",
        json!({"UserAttrs": [{"To_Account": "u", "Attrs": {"sex": "v".repeat(51)}}]}),
        90033,
    )
    .await;
    // Over 100 accounts.
    let too_many: Vec<Value> = accounts(101)
        .into_iter()
        .map(|a| json!({"To_Account": a, "Attrs": {"sex": "M"}}))
        .collect();
    api.fails("im_set_attr", json!({ "UserAttrs": too_many }), 90018)
        .await;
    api.fails("im_get_attr", json!({ "To_Account": accounts(101) }), 90018)
        .await;
    let removes: Vec<Value> = accounts(101)
        .into_iter()
        .map(|a| json!({"To_Account": a, "Attrs": ["sex"]}))
        .collect();
    api.fails("im_remove_attr", json!({ "UserAttrs": removes }), 90018)
        .await;
    // Wrong account types.
    api.fails("im_get_attr", json!({"To_Account": [42]}), 60015)
        .await;
    api.fails(
        "im_set_attr",
        json!({"UserAttrs": [{"To_Account": 42, "Attrs": {"sex": "M"}}]}),
        60015,
    )
    .await;
    // Remove-attr takes a list of names (the Java SDK's object is refused).
    api.fails(
        "im_remove_attr",
        json!({"UserAttrs": [{"To_Account": "u", "Attrs": {"sex": "M"}}]}),
        90001,
    )
    .await;
    // Nothing was applied by any refused call.
    assert!(api.emu().state().accounts.is_empty());
    // 100 accounts are fine.
    let hundred: Vec<Value> = accounts(100)
        .into_iter()
        .map(|a| json!({"To_Account": a, "Attrs": {"sex": "M"}}))
        .collect();
    api.ok("im_set_attr", json!({ "UserAttrs": hundred })).await;
    assert_eq!(api.emu().state().all_member_push.users.len(), 100);
}

#[tokio::test]
async fn tags_add_read_remove_and_clear() {
    let api = api().await;
    api.ok(
        "im_add_tag",
        json!({"UserTags": [
            {"To_Account": "xiaojun012", "Tags": ["a", "b"]},
            {"To_Account": "xiaojun013", "Tags": ["a", "c"]}
        ]}),
    )
    .await;
    // A set: adding again changes nothing, order of first addition is kept.
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "xiaojun012", "Tags": ["b", "d", "a"]}]}),
    )
    .await;
    assert_eq!(
        api.tags_of(&["xiaojun012", "xiaojun013", "nobody"]).await,
        vec![vec!["a", "b", "d"], vec!["a", "c"], vec![]]
    );
    api.ok(
        "im_remove_tag",
        json!({"UserTags": [{"To_Account": "xiaojun012", "Tags": ["b", "never-had"]}]}),
    )
    .await;
    assert_eq!(api.tags_of(&["xiaojun012"]).await, vec![vec!["a", "d"]]);
    api.ok(
        "im_remove_all_tags",
        json!({"To_Account": ["xiaojun012", "xiaojun013"]}),
    )
    .await;
    assert_eq!(
        api.tags_of(&["xiaojun012", "xiaojun013"]).await,
        vec![Vec::<String>::new(), vec![]]
    );
    // The entries stay (with no tags); tags never create accounts.
    assert_eq!(api.emu().state().all_member_push.users.len(), 2);
    assert!(api.emu().state().accounts.is_empty());
}

#[tokio::test]
async fn tag_errors() {
    let api = api().await;
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    api.fails(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": eleven}]}),
        90032,
    )
    .await;
    api.fails(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["t".repeat(51)]}]}),
        90034,
    )
    .await;
    api.fails(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": [""]}]}),
        90034,
    )
    .await;
    let many: Vec<Value> = accounts(101)
        .into_iter()
        .map(|a| json!({"To_Account": a, "Tags": ["x"]}))
        .collect();
    api.fails("im_add_tag", json!({ "UserTags": many.clone() }), 90018)
        .await;
    api.fails("im_remove_tag", json!({ "UserTags": many }), 90018)
        .await;
    let v = api
        .fails("im_get_tag", json!({ "To_Account": accounts(101) }), 90018)
        .await;
    assert_eq!(v["ErrorInfo"], "request account count exceed limit");
    api.fails(
        "im_remove_all_tags",
        json!({ "To_Account": accounts(101) }),
        90018,
    )
    .await;
    api.fails("im_get_tag", json!({"To_Account": [null]}), 60015)
        .await;
    api.fails(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": ["u"], "Tags": ["x"]}]}),
        60015,
    )
    .await;
    api.fails("im_get_tag", json!({"To_Account": "u"}), 90001)
        .await;
    api.fails("im_get_tag", json!({"To_Account": [""]}), 90001)
        .await;
    // The Go SDK's top-level "Tags" instead of "UserTags" is refused.
    api.fails(
        "im_add_tag",
        json!({"To_Account": "u", "Tags": ["x"]}),
        90001,
    )
    .await;
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["t".repeat(50)]}]}),
    )
    .await;
}

#[tokio::test]
async fn an_account_holds_at_most_100_tags_and_requests_are_atomic() {
    let api = api().await;
    for batch in 0..10 {
        let tags: Vec<String> = (0..10).map(|i| format!("t{}", batch * 10 + i)).collect();
        api.ok(
            "im_add_tag",
            json!({"UserTags": [{"To_Account": "u", "Tags": tags}]}),
        )
        .await;
    }
    assert_eq!(api.tags_of(&["u"]).await[0].len(), 100);
    // Re-adding held tags is fine; one new tag is one too many.
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["t0", "t99"]}]}),
    )
    .await;
    api.fails(
        "im_add_tag",
        json!({"UserTags": [
            {"To_Account": "other", "Tags": ["x"]},
            {"To_Account": "u", "Tags": ["t100"]}
        ]}),
        90032,
    )
    .await;
    // Nothing of the refused request was applied, not even the first entry.
    assert!(!api.emu().state().accounts.iter().any(|a| a == "other"));
    // The same account twice in one request counts as one account.
    api.ok(
        "im_remove_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["t0", "t1"]}]}),
    )
    .await;
    api.fails(
        "im_add_tag",
        json!({"UserTags": [
            {"To_Account": "u", "Tags": ["n1", "n2"]},
            {"To_Account": "u", "Tags": ["n3"]}
        ]}),
        90032,
    )
    .await;
    api.ok(
        "im_add_tag",
        json!({"UserTags": [{"To_Account": "u", "Tags": ["n1"]}, {"To_Account": "u", "Tags": ["n2"]}]}),
    )
    .await;
    assert_eq!(api.tags_of(&["u"]).await[0].len(), 100);
}

#[tokio::test]
async fn malformed_json_gets_each_services_code_on_every_endpoint() {
    let api = api().await;
    let query = api.query();
    // Every endpoint of the spec, emulated or not: the front layer reads the body first.
    for command in tim_core::EndpointId::ALL {
        for body in [
            "{",
            "",
            "not json",
            "[1,2]",
            "\"text\"",
            "{\"To_Account\":[\"u\"],}",
        ] {
            let v = api.post_bytes(&command.to_string(), &query, body).await;
            // Each service's own code for a body it cannot read, as its pages list it.
            let expected = match command.service() {
                "im_open_login_svc" => 70402,
                "profile" => 40001,
                _ => 90001,
            };
            assert_eq!(code(&v), expected, "{command} {body:?}: {v}");
        }
    }
}

#[tokio::test]
async fn unknown_fields_are_ignored_as_the_service_does() {
    let api = api().await;
    // A field the spec does not know (here a typo of `To_Account`) is ignored, not refused:
    // the answer is the one the known fields ask for.
    let v = api
        .call(
            "im_get_tag",
            json!({"To_Account": ["u"], "To_account": ["v"]}),
        )
        .await;
    assert_eq!(v["ErrorCode"], 0, "{v}");
    assert_eq!(v["UserTags"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["UserTags"][0]["To_Account"], "u", "{v}");
    let v = api
        .call(
            "im_push",
            json!({"MsgRandom": 1, "MsgBody": crate::support::text("hi"), "MsgLifetime": 60}),
        )
        .await;
    assert_eq!(v["ErrorCode"], 0, "{v}");
    assert_eq!(api.emu().pushes().len(), 1);
}
