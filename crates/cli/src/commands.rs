//! The commands that call the API.

use std::io::Read;

use serde_json::Value;

use tim_core::all_member_push::{
    AddTag, AddTagRequest, GetAttr, GetAttrName, GetAttrNameRequest, GetAttrRequest, GetTag,
    GetTagRequest, PushRequest, RemoveAllTags, RemoveAllTagsRequest, RemoveAttr, RemoveAttrRequest,
    RemoveTag, RemoveTagRequest, SetAttr, SetAttrName, SetAttrNameRequest, SetAttrRequest,
};
use tim_core::{ApiRequest, Client, Endpoint, EndpointId, EndpointVisitor, Transport, Validate};
use tim_core::{
    all_member_push::{PushCondition, UserAttrsRemove, UserAttrsSet, UserTagItem, UserTags},
    common::{MsgElement, TextElem},
};

use crate::Failure;
use crate::args::{
    AccountsCmd, AttrNamesCmd, AttrsCmd, BulkArgs, MsgCmd, ProfileCmd, PushArgs, TagsCmd,
};
use crate::client::{error_envelope, failure};
use tim_core::im_open_login_svc::{
    AccountCheck, AccountDelete, AccountIdItem, AccountImport, AccountImportItem,
    AccountImportRequest, MultiAccountImport,
};
use tim_core::openim::{GetRoamMsgRequest, SendMsg, SendMsgRequest};
use tim_core::profile::{
    PortraitGet, PortraitGetRequest, PortraitSet, PortraitSetRequest, ProfileItem,
};

/// Prints the answer (or the error's envelope) and maps the outcome to an exit code.
async fn call_and_print<E: Endpoint, T: Transport>(
    client: &Client<T>,
    request: E::Request,
) -> Result<(), Failure> {
    print_outcome(client.call::<E>(request).await)
}

/// Prints an answer, or an error's envelope, and maps the outcome to an exit code.
fn print_outcome(outcome: Result<impl serde::Serialize, tim_core::Error>) -> Result<(), Failure> {
    match outcome {
        Ok(response) => {
            crate::print_json(&response);
            Ok(())
        }
        Err(e) => {
            if let Some(envelope) = error_envelope(&e) {
                crate::print_json(&envelope);
            }
            Err(failure(&e))
        }
    }
}

/// Reads `tim call`'s BODY argument: JSON text, `-` for stdin, or `@FILE`.
fn read_body(body: Option<&str>) -> Result<String, Failure> {
    match body {
        None => Ok("{}".into()),
        Some("-") => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Failure::Usage(format!("cannot read the body from stdin: {e}")))?;
            Ok(s)
        }
        Some(b) => match b.strip_prefix('@') {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| Failure::Usage(format!("cannot read {path}: {e}"))),
            None => Ok(b.to_owned()),
        },
    }
}

struct CallVisitor<'a, T> {
    client: &'a Client<T>,
    body: &'a str,
}

impl<'a, T: Transport> EndpointVisitor for CallVisitor<'a, T> {
    type Output = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), Failure>> + 'a>>;

    fn visit<E: Endpoint>(self) -> Self::Output {
        Box::pin(async move {
            let id = E::INFO.id;
            let input: Value = serde_json::from_str(self.body)
                .map_err(|e| Failure::Usage(format!("the body is not JSON: {e}")))?;
            let request: E::Request = serde_json::from_value(input.clone()).map_err(|e| {
                Failure::Usage(format!("the body is not a valid {id} request: {e}"))
            })?;
            request
                .validate()
                .map_err(|e| Failure::Usage(format!("invalid request: {e}")))?;
            // Fields the spec does not know: kept and sent as they are, with a warning.
            let mut unknown: Vec<String> = request.extra().keys().cloned().collect();
            let typed = serde_json::to_value(&request).unwrap_or(Value::Null);
            crate::json_paths::unknown_paths(&input, &typed, "", &mut unknown);
            for path in &unknown {
                tracing::warn!("{path} is not in the spec of {id}; it is sent as it is");
            }
            let body = serde_json::to_vec(&input).unwrap_or_default();
            print_outcome(self.client.call_json::<E>(body).await)
        })
    }
}

/// The endpoints whose `service/command` is closest to `name` (a typo's likely meaning).
fn closest(name: &str) -> Vec<String> {
    let scored: Vec<(f64, String)> = EndpointId::ALL
        .iter()
        .map(|id| {
            let full = id.to_string();
            let score =
                strsim::jaro_winkler(name, &full).max(strsim::jaro_winkler(name, id.command()));
            (score, full)
        })
        .filter(|(score, _)| *score >= 0.85)
        .collect();
    let best = scored.iter().map(|(s, _)| *s).fold(0.0, f64::max);
    scored
        .into_iter()
        .filter(|(s, _)| *s >= best - 0.02)
        .map(|(_, full)| full)
        .collect()
}

/// Finds the endpoint `tim call` names: `<service>/<command>` (optionally `v4/` or `/v4/` in
/// front), or a command only one service has. An unknown or ambiguous name is a usage error
/// that names the candidates.
pub(crate) fn resolve_endpoint(name: &str) -> Result<EndpointId, Failure> {
    let trimmed = name.trim().trim_start_matches('/');
    let trimmed = trimmed.strip_prefix("v4/").unwrap_or(trimmed);
    let unknown = |what: &str| {
        // The same command in another service, or the names closest to a typo.
        let command = trimmed.rsplit('/').next().unwrap_or(trimmed);
        let mut close: Vec<String> = EndpointId::with_command(command)
            .map(|id| id.to_string())
            .collect();
        if close.is_empty() {
            close = closest(trimmed);
        }
        let hint = if close.is_empty() {
            " (`tim call --list` shows every endpoint)".to_owned()
        } else {
            format!("; did you mean {}?", close.join(" or "))
        };
        Failure::Usage(format!("unknown {what} {name:?}{hint}"))
    };
    if let Some((service, command)) = trimmed.split_once('/') {
        return EndpointId::find(service, command).ok_or_else(|| unknown("endpoint"));
    }
    let matches: Vec<EndpointId> = EndpointId::with_command(trimmed).collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => Err(unknown("command")),
        many => {
            let names: Vec<String> = many.iter().map(|id| id.to_string()).collect();
            Err(Failure::Usage(format!(
                "{name:?} is a command of several services; name one: {}",
                names.join(", ")
            )))
        }
    }
}

/// `tim call --list`: one line per endpoint.
#[allow(clippy::print_stdout)]
pub(crate) fn list_endpoints() {
    for id in EndpointId::ALL {
        let info = id.info();
        let mut rate = Vec::new();
        if let Some(n) = info.rate.per_second {
            rate.push(format!("{n}/s"));
        }
        if let Some(n) = info.rate.per_day {
            rate.push(format!("{n}/day"));
        }
        if let Some(d) = info.rate.min_interval {
            rate.push(format!(">{}ms apart", d.as_millis()));
        }
        let batch = info.batch.map_or("-".to_owned(), |b| {
            format!("batch {} {}", b.max_items, b.request_field)
        });
        println!(
            "v4/{}/{}\t{}\t{}\t{}",
            info.service,
            info.command,
            rate.join(", "),
            batch,
            if info.idempotent {
                "idempotent"
            } else {
                "not-idempotent"
            }
        );
    }
}

/// `tim call ENDPOINT [BODY]`.
pub(crate) async fn call<T: Transport>(
    client: &Client<T>,
    endpoint: EndpointId,
    body: Option<&str>,
) -> Result<(), Failure> {
    let body = read_body(body)?;
    endpoint
        .visit(CallVisitor {
            client,
            body: &body,
        })
        .await
}

fn no_file(bulk: &BulkArgs) -> Result<(), Failure> {
    if bulk.file.is_some() {
        return Err(Failure::Usage(
            "give an account on the command line or --file, not both".into(),
        ));
    }
    Ok(())
}

/// Accounts from the command line or `--file`: one call when they fit in one, the bulk engine
/// otherwise (more accounts than a call takes are split like a file).
async fn accounts<E, T>(
    client: &Client<T>,
    users: &[String],
    bulk: &BulkArgs,
    quiet: bool,
    one_call: impl FnOnce(Vec<String>) -> E::Request,
) -> Result<(), Failure>
where
    E: tim_core::Batch<Item = String>,
    T: Transport,
{
    if bulk.file.is_some() && !users.is_empty() {
        return Err(Failure::Usage(
            "give accounts on the command line or --file, not both".into(),
        ));
    }
    if bulk.file.is_some() {
        return crate::bulk::run::<E, T>(client, crate::bulk::Source::of(bulk)?, bulk, quiet).await;
    }
    if users.len() > E::MAX_ITEMS {
        let source = crate::bulk::Source::Args(users.to_vec());
        return crate::bulk::run::<E, T>(client, source, bulk, quiet).await;
    }
    call_and_print::<E, T>(client, one_call(users.to_vec())).await
}

/// A bulk job over `--file`.
async fn from_file<E: tim_core::Batch, T: Transport>(
    client: &Client<T>,
    bulk: &BulkArgs,
    quiet: bool,
) -> Result<(), Failure> {
    crate::bulk::run::<E, T>(client, crate::bulk::Source::of(bulk)?, bulk, quiet).await
}

/// `tim tags ...`.
pub(crate) async fn tags<T: Transport>(
    client: &Client<T>,
    cmd: &TagsCmd,
    quiet: bool,
) -> Result<(), Failure> {
    match cmd {
        TagsCmd::Get { users, bulk } => {
            accounts::<GetTag, T>(client, users, bulk, quiet, GetTagRequest::new).await
        }
        TagsCmd::Add { user, tags, bulk } => match user {
            None => from_file::<AddTag, T>(client, bulk, quiet).await,
            Some(user) => {
                no_file(bulk)?;
                let request = AddTagRequest::new([UserTagItem::new(user.clone(), tags.clone())]);
                call_and_print::<AddTag, T>(client, request).await
            }
        },
        TagsCmd::Remove { user, tags, bulk } => match user {
            None => from_file::<RemoveTag, T>(client, bulk, quiet).await,
            Some(user) => {
                no_file(bulk)?;
                let request = RemoveTagRequest::new([UserTags::new(user.clone(), tags.clone())]);
                call_and_print::<RemoveTag, T>(client, request).await
            }
        },
        TagsCmd::Clear { users, bulk } => {
            accounts::<RemoveAllTags, T>(client, users, bulk, quiet, RemoveAllTagsRequest::new)
                .await
        }
    }
}

/// Items of an account list from the command line or `--file`: one call when they fit, the
/// bulk engine otherwise (as [`accounts`], for items that are structs naming an account).
async fn account_items<E, T>(
    client: &Client<T>,
    users: &[String],
    bulk: &BulkArgs,
    quiet: bool,
    item: impl Fn(String) -> E::Item,
) -> Result<(), Failure>
where
    E: tim_core::Batch,
    T: Transport,
{
    if bulk.file.is_some() && !users.is_empty() {
        return Err(Failure::Usage(
            "give accounts on the command line or --file, not both".into(),
        ));
    }
    if bulk.file.is_some() || users.len() > E::MAX_ITEMS {
        let source = if bulk.file.is_some() {
            crate::bulk::Source::of(bulk)?
        } else {
            crate::bulk::Source::Args(users.to_vec())
        };
        return crate::bulk::run::<E, T>(client, source, bulk, quiet).await;
    }
    let items = users.iter().cloned().map(item).collect();
    call_and_print::<E, T>(client, E::request_from_items(items)).await
}

/// `tim accounts ...`.
pub(crate) async fn accounts_cmd<T: Transport>(
    client: &Client<T>,
    cmd: &AccountsCmd,
    quiet: bool,
) -> Result<(), Failure> {
    match cmd {
        AccountsCmd::Import {
            users,
            nick,
            face_url,
            bulk,
        } => {
            if nick.is_some() || face_url.is_some() {
                let [user] = users.as_slice() else {
                    return Err(Failure::Usage(
                        "--nick and --face-url set one account's profile: give one account".into(),
                    ));
                };
                let mut request = AccountImportRequest::new(user.clone());
                request.nick = nick.clone();
                request.face_url = face_url.clone();
                return call_and_print::<AccountImport, T>(client, request).await;
            }
            account_items::<MultiAccountImport, T>(
                client,
                users,
                bulk,
                quiet,
                AccountImportItem::new,
            )
            .await
        }
        AccountsCmd::Check { users, bulk } => {
            account_items::<AccountCheck, T>(client, users, bulk, quiet, AccountIdItem::new).await
        }
        AccountsCmd::Delete { users, bulk } => {
            account_items::<AccountDelete, T>(client, users, bulk, quiet, AccountIdItem::new).await
        }
    }
}

/// `tim profile ...`.
pub(crate) async fn profile<T: Transport>(
    client: &Client<T>,
    cmd: &ProfileCmd,
) -> Result<(), Failure> {
    match cmd {
        ProfileCmd::Get { users, tags } => {
            let request = PortraitGetRequest::new(users.clone(), tags.clone());
            call_and_print::<PortraitGet, T>(client, request).await
        }
        ProfileCmd::Set { user, items } => {
            let items = items
                .iter()
                .map(|(tag, value)| ProfileItem::new(tag.clone(), value.clone()));
            let request = PortraitSetRequest::new(user.clone(), items);
            call_and_print::<PortraitSet, T>(client, request).await
        }
    }
}

/// `tim msg ...`.
pub(crate) async fn msg<T: Transport>(client: &Client<T>, cmd: &MsgCmd) -> Result<(), Failure> {
    match cmd {
        MsgCmd::Send {
            from,
            to,
            text,
            body,
            lifetime,
        } => {
            let elements: Vec<MsgElement> = match (text, body) {
                (Some(t), _) => vec![MsgElement::Text(TextElem::new(t.clone()))],
                (None, b) => {
                    let json = read_body(b.as_deref())?;
                    serde_json::from_str(&json).map_err(|e| {
                        Failure::Usage(format!("--body: not a list of message elements: {e}"))
                    })?
                }
            };
            let mut request = SendMsgRequest::new(to.clone(), client.new_msg_random(), elements);
            request.from_account = Some(from.clone());
            request.msg_life_time = *lifetime;
            call_and_print::<SendMsg, T>(client, request).await
        }
        MsgCmd::History {
            a,
            b,
            since,
            until,
            page,
        } => {
            let until =
                until.unwrap_or_else(|| i64::try_from(crate::now_unix()).unwrap_or(i64::MAX));
            let request = GetRoamMsgRequest::new(a.clone(), b.clone(), *page, *since, until);
            let mut messages = std::pin::pin!(client.roam_messages(request));
            while let Some(m) = futures_util::StreamExt::next(&mut messages).await {
                match m {
                    Ok(m) => crate::print_json_line(&m),
                    Err(e) => {
                        if let Some(envelope) = error_envelope(&e) {
                            crate::print_json(&envelope);
                        }
                        return Err(failure(&e));
                    }
                }
            }
            Ok(())
        }
    }
}

/// `tim attrs ...`.
pub(crate) async fn attrs<T: Transport>(
    client: &Client<T>,
    cmd: &AttrsCmd,
    quiet: bool,
) -> Result<(), Failure> {
    match cmd {
        AttrsCmd::Names(AttrNamesCmd::Get) => {
            call_and_print::<GetAttrName, T>(client, GetAttrNameRequest::new()).await
        }
        AttrsCmd::Names(AttrNamesCmd::Set { names }) => {
            call_and_print::<SetAttrName, T>(client, SetAttrNameRequest::new(names.clone())).await
        }
        AttrsCmd::Get { users, bulk } => {
            accounts::<GetAttr, T>(client, users, bulk, quiet, GetAttrRequest::new).await
        }
        AttrsCmd::Set { user, attrs, bulk } => match user {
            None => from_file::<SetAttr, T>(client, bulk, quiet).await,
            Some(user) => {
                no_file(bulk)?;
                let request = SetAttrRequest::new([UserAttrsSet::new(user.clone(), attrs.clone())]);
                call_and_print::<SetAttr, T>(client, request).await
            }
        },
        AttrsCmd::Remove { user, names, bulk } => match user {
            None => from_file::<RemoveAttr, T>(client, bulk, quiet).await,
            Some(user) => {
                no_file(bulk)?;
                let request =
                    RemoveAttrRequest::new([UserAttrsRemove::new(user.clone(), names.clone())]);
                call_and_print::<RemoveAttr, T>(client, request).await
            }
        },
    }
}

/// The push request described by `tim push`'s options.
pub(crate) fn push_request(args: &PushArgs, msg_random: u32) -> PushRequest {
    let mut condition = PushCondition::default();
    let mut any = false;
    if !args.tags_and.is_empty() {
        condition = condition.with_tags_and(args.tags_and.clone());
        any = true;
    }
    if !args.tags_or.is_empty() {
        condition = condition.with_tags_or(args.tags_or.clone());
        any = true;
    }
    if !args.attrs_and.is_empty() {
        condition = condition.with_attrs_and(args.attrs_and.iter().cloned());
        any = true;
    }
    if !args.attrs_or.is_empty() {
        condition = condition.with_attrs_or(args.attrs_or.iter().cloned());
        any = true;
    }
    let mut request = PushRequest::new(
        msg_random,
        [MsgElement::Text(TextElem::new(args.text.clone()))],
    );
    if any {
        request = request.with_condition(condition);
    }
    if let Some(l) = args.lifetime {
        request = request.with_msg_life_time(l);
    }
    if let Some(from) = &args.from {
        request = request.with_from_account(from.clone());
    }
    request
}

/// `tim push`.
///
/// Without a condition it pushes to every user, which takes `--all`. After a failure that may
/// have pushed (see [`may_have_pushed`]), the error message carries the MsgRandom and the
/// command that repeats this very push with it, at every verbosity.
pub(crate) async fn push<T: Transport>(client: &Client<T>, args: &PushArgs) -> Result<(), Failure> {
    if !args.all && !has_condition(args) {
        return Err(Failure::Usage(
            "tim push without a condition would push to every user of the app: pass --all to \
             do that, or a condition (--tags-and, --tags-or, --attrs-and, --attrs-or)"
                .into(),
        ));
    }
    let msg_random = args.msg_random.unwrap_or_else(|| client.new_msg_random());
    let request = push_request(args, msg_random);
    tracing::info!(
        msg_random,
        "pushing (reuse --msg-random {msg_random} to retry this very push)"
    );
    match client
        .call::<tim_core::all_member_push::Push>(request)
        .await
    {
        Ok(response) => {
            crate::print_json(&response);
            Ok(())
        }
        Err(e) => {
            if let Some(envelope) = error_envelope(&e) {
                crate::print_json(&envelope);
            }
            let mut failed = failure(&e);
            if may_have_pushed(&e) {
                let hint = format!(
                    "\nthe push may have been made (MsgRandom {msg_random}). To repeat it, reuse \
                     its MsgRandom, so that Tencent can tell it is the same push task (the older \
                     documentation deduplicates a MsgRandom for 7 days, the newer says within a \
                     second); with the same credentials, run:\n  {}",
                    repeat_command(client, args, msg_random)
                );
                match &mut failed {
                    Failure::Api(m) | Failure::Usage(m) | Failure::Transport(m) => {
                        m.push_str(&hint)
                    }
                    _ => {}
                }
            }
            Err(failed)
        }
    }
}

fn has_condition(args: &PushArgs) -> bool {
    !(args.tags_and.is_empty()
        && args.tags_or.is_empty()
        && args.attrs_and.is_empty()
        && args.attrs_or.is_empty())
}

/// Whether a failed push may have been executed: something may have reached the server, and
/// no API answer says it was refused (an API error of a known kind other than transient means
/// the call was not executed; a transient or unknown code leaves it open).
pub(crate) fn may_have_pushed(e: &tim_core::Error) -> bool {
    if !e.maybe_sent() {
        return false;
    }
    match e.kind() {
        tim_core::ErrorKind::Api(api) => {
            !matches!(api.code().kind(), Some(k) if k != tim_core::CodeKind::Transient)
        }
        _ => true,
    }
}

/// The `tim push` command line that repeats the push `args` described with `msg_random`: the
/// same app, admin, target and message, never a credential.
pub(crate) fn repeat_command<T>(client: &Client<T>, args: &PushArgs, msg_random: u32) -> String {
    let mut words: Vec<String> = vec!["tim".into()];
    let base = client.base_url();
    match tim_core::Region::ALL
        .iter()
        .find(|r| tim_core::BaseUrl::from(**r) == *base)
    {
        Some(region) => words.extend(["--region".into(), region.name().into()]),
        None => words.extend(["--endpoint".into(), base.as_str().into()]),
    }
    words.extend(["--sdkappid".into(), client.sdkappid().to_string()]);
    if client.identifier() != tim_core::DEFAULT_IDENTIFIER {
        words.extend(["--identifier".into(), client.identifier().into()]);
    }
    words.push("push".into());
    // An option with its values (none: the option is left out; `--all` goes in by hand).
    let mut option = |flag: &str, values: Vec<String>| {
        if values.iter().any(|v| v.starts_with('-')) {
            // `--flag=-value`, one value each, so that no value reads as a flag.
            words.extend(values.iter().map(|v| format!("{flag}={v}")));
        } else if flag == "--all" || !values.is_empty() {
            words.push(flag.into());
            words.extend(values);
        }
    };
    option("--text", vec![args.text.clone()]);
    if args.all {
        option("--all", Vec::new());
    }
    let pairs = |pairs: &[(String, String)]| -> Vec<String> {
        pairs.iter().map(|(k, v)| format!("{k}={v}")).collect()
    };
    option("--tags-and", args.tags_and.clone());
    option("--tags-or", args.tags_or.clone());
    option("--attrs-and", pairs(&args.attrs_and));
    option("--attrs-or", pairs(&args.attrs_or));
    if let Some(l) = args.lifetime {
        option("--lifetime", vec![l.to_string()]);
    }
    if let Some(from) = &args.from {
        option("--from", vec![from.clone()]);
    }
    words.extend(["--msg-random".into(), msg_random.to_string()]);
    words
        .iter()
        .map(|w| shell_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `word` as one word for a POSIX shell: as it is when that is safe, otherwise in single quotes.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod push_tests {
    use super::*;
    use std::time::Duration;
    use tim_core::{ApiError, ErrorKind, Sent, TransportError};

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("vip"), "vip");
        assert_eq!(shell_quote("city=Shenzhen"), "city=Shenzhen");
        assert_eq!(
            shell_quote("http://127.0.0.1:9000"),
            "http://127.0.0.1:9000"
        );
        assert_eq!(shell_quote("Sale starts now"), "'Sale starts now'");
        assert_eq!(shell_quote("it's $5"), r"'it'\''s $5'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn only_failures_that_may_have_pushed_get_the_repeat_command() {
        let maybe = |e: tim_core::Error| may_have_pushed(&e);
        assert!(maybe(TransportError::new(Sent::Maybe, "reset").into()));
        assert!(maybe(ErrorKind::Timeout(Duration::from_secs(1)).into()));
        assert!(maybe(ApiError::new(91000, "internal").into()));
        assert!(maybe(ApiError::new(123_456_789, "undocumented").into()));
        assert!(maybe(
            ErrorKind::http_status(http_status(502), Default::default()).into()
        ));
        // Certainly not executed: never sent, or refused by an answer.
        assert!(!maybe(TransportError::new(Sent::No, "refused").into()));
        assert!(!maybe(ApiError::new(90024, "too frequent").into()));
        assert!(!maybe(ApiError::new(60007, "too many").into()));
        assert!(!maybe(ApiError::new(90039, "tags and attrs").into()));
        assert!(!maybe(ApiError::new(90047, "quota").into()));
    }

    fn http_status(code: u16) -> tim_core::http::StatusCode {
        tim_core::http::StatusCode::from_u16(code).unwrap()
    }
}
