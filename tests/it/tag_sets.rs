//! Tag sets generated from the spec (profile fields): typed before sending, with the field
//! path and the code the server answers.

use serde_json::json;
use tim_core::Validate;
use tim_core::profile::{PortraitGetRequest, PortraitSetRequest, ProfileItem, ProfileTag};

fn refused(req: &impl Validate) -> (String, Option<i64>) {
    let e = req.validate().unwrap_err();
    (e.path().to_owned(), e.code().map(|c| c.code()))
}

#[test]
fn every_standard_tag_round_trips_its_wire_name() {
    for t in ProfileTag::ALL {
        assert_eq!(ProfileTag::from_wire(t.wire()), Some(*t));
        assert!(t.wire().starts_with("Tag_Profile_IM_"), "{t:?}");
    }
    assert_eq!(ProfileTag::from_wire("Tag_Profile_IM_Nik"), None);
    assert!(ProfileTag::is_custom("Tag_Profile_Custom_Hobby"));
    assert!(!ProfileTag::is_custom("Tag_Profile_Custom_"));
    assert!(!ProfileTag::is_custom("Tag_Profile_Custom_TooLongKw"));
    assert!(!ProfileTag::is_custom("Tag_Profile_Custom_has_1"));
    assert_eq!(
        ProfileTag::AllowType.allowed_values(),
        [
            "AllowType_Type_NeedConfirm",
            "AllowType_Type_AllowAny",
            "AllowType_Type_DenyAny"
        ]
    );
}

#[test]
fn portrait_set_checks_each_tag_and_value() {
    let set = |items: Vec<ProfileItem>| PortraitSetRequest::new("alice", items);
    let ok = set(vec![
        ProfileItem::new(ProfileTag::Nick.wire(), json!("Alice")),
        ProfileItem::new(ProfileTag::Gender.wire(), json!("Gender_Type_Female")),
        ProfileItem::new(ProfileTag::Level.wire(), json!(3)),
        ProfileItem::new("Tag_Profile_Custom_Hobby", json!("chess")),
    ]);
    ok.validate().unwrap();
    let cases = [
        (
            ProfileItem::new("Tag_Profile_IM_Nik", json!("x")),
            "ProfileItem[0].Tag",
            40009,
        ),
        (
            ProfileItem::new(ProfileTag::Nick.wire(), json!(5)),
            "ProfileItem[0].Value",
            40610,
        ),
        (
            ProfileItem::new(ProfileTag::Nick.wire(), json!("n".repeat(501))),
            "ProfileItem[0].Value",
            40601,
        ),
        (
            ProfileItem::new(ProfileTag::Gender.wire(), json!("Gender_Type_Robot")),
            "ProfileItem[0].Value",
            40605,
        ),
        (
            ProfileItem::new(ProfileTag::Level.wire(), json!(4_294_967_296u64)),
            "ProfileItem[0].Value",
            40610,
        ),
        (
            ProfileItem::new("Tag_Profile_Custom_Hobby", json!("h".repeat(501))),
            "ProfileItem[0].Value",
            40601,
        ),
    ];
    for (item, path, code) in cases {
        let req = set(vec![item.clone()]);
        assert_eq!(refused(&req), (path.to_owned(), Some(code)), "{item:?}");
        let msg = req.validate().unwrap_err().to_string();
        assert!(msg.contains(&code.to_string()), "{msg}");
    }
}

#[test]
fn portrait_get_checks_the_tags_it_asks_for() {
    let req = PortraitGetRequest::new(["alice"], [ProfileTag::Nick.wire(), "Tag_Profile_IM_Nik"]);
    assert_eq!(refused(&req), ("TagList[1]".to_owned(), Some(40009)));
    let err = req.validate().unwrap_err().to_string();
    assert!(err.contains("Tag_Profile_IM_Nik"), "names the tag: {err}");
    PortraitGetRequest::new(
        ["alice"],
        [ProfileTag::Image.wire(), "Tag_Profile_Custom_Level"],
    )
    .validate()
    .unwrap();
}
