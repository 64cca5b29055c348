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
use crate::args::{AttrNamesCmd, AttrsCmd, BulkArgs, PushArgs, TagsCmd};
use crate::client::{error_envelope, failure};

/// Prints the answer (or the error's envelope) and maps the outcome to an exit code.
async fn call_and_print<E: Endpoint, T: Transport>(
    client: &Client<T>,
    request: E::Request,
) -> Result<(), Failure> {
    match client.call::<E>(request).await {
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
            match self.client.call_json::<E>(body).await {
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
        })
    }
}

/// Finds the endpoint `tim call` names: `<service>/<command>` (optionally `v4/` or `/v4/` in
/// front), or a command only one service has.
pub(crate) fn resolve_endpoint(name: &str) -> Result<EndpointId, Failure> {
    let trimmed = name.trim().trim_start_matches('/');
    let trimmed = trimmed.strip_prefix("v4/").unwrap_or(trimmed);
    if let Some((service, command)) = trimmed.split_once('/') {
        return EndpointId::find(service, command).ok_or_else(|| {
            let in_service: Vec<String> = EndpointId::ALL
                .iter()
                .filter(|id| id.service() == service)
                .map(|id| id.to_string())
                .collect();
            let same_command: Vec<String> = EndpointId::with_command(command)
                .map(|id| id.to_string())
                .collect();
            let hint = if !same_command.is_empty() {
                format!("; did you mean {}?", same_command.join(" or "))
            } else if !in_service.is_empty() {
                format!(" (service {service} has: {})", in_service.join(", "))
            } else {
                " (`tim call --list` shows every endpoint)".to_owned()
            };
            Failure::Usage(format!("unknown endpoint {name:?}{hint}"))
        });
    }
    let matches: Vec<EndpointId> = EndpointId::with_command(trimmed).collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => {
            let close: Vec<String> = EndpointId::ALL
                .iter()
                .filter(|id| id.command().contains(trimmed) || trimmed.contains(id.command()))
                .map(|id| id.to_string())
                .collect();
            let hint = if close.is_empty() {
                " (`tim call --list` shows every endpoint)".to_owned()
            } else {
                format!("; did you mean {}?", close.join(" or "))
            };
            Err(Failure::Usage(format!("unknown command {name:?}{hint}")))
        }
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

fn single(users: &[String], bulk: &BulkArgs) -> Result<(), Failure> {
    if bulk.file.is_some() && !users.is_empty() {
        return Err(Failure::Usage(
            "give accounts on the command line or --file, not both".into(),
        ));
    }
    Ok(())
}

/// `tim tags ...`.
pub(crate) async fn tags<T: Transport>(
    client: &Client<T>,
    cmd: &TagsCmd,
    quiet: bool,
) -> Result<(), Failure> {
    match cmd {
        TagsCmd::Get { users, bulk } => {
            single(users, bulk)?;
            if bulk.file.is_some() {
                return crate::bulk::run::<GetTag, T>(client, bulk, quiet).await;
            }
            call_and_print::<GetTag, T>(client, GetTagRequest::new(users.clone())).await
        }
        TagsCmd::Add { user, tags, bulk } => match user {
            None => crate::bulk::run::<AddTag, T>(client, bulk, quiet).await,
            Some(user) => {
                no_file(bulk)?;
                let request = AddTagRequest::new([UserTagItem::new(user.clone(), tags.clone())]);
                call_and_print::<AddTag, T>(client, request).await
            }
        },
        TagsCmd::Remove { user, tags, bulk } => match user {
            None => crate::bulk::run::<RemoveTag, T>(client, bulk, quiet).await,
            Some(user) => {
                no_file(bulk)?;
                let request = RemoveTagRequest::new([UserTags::new(user.clone(), tags.clone())]);
                call_and_print::<RemoveTag, T>(client, request).await
            }
        },
        TagsCmd::Clear { users, bulk } => {
            single(users, bulk)?;
            if bulk.file.is_some() {
                return crate::bulk::run::<RemoveAllTags, T>(client, bulk, quiet).await;
            }
            call_and_print::<RemoveAllTags, T>(client, RemoveAllTagsRequest::new(users.clone()))
                .await
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
            single(users, bulk)?;
            if bulk.file.is_some() {
                return crate::bulk::run::<GetAttr, T>(client, bulk, quiet).await;
            }
            call_and_print::<GetAttr, T>(client, GetAttrRequest::new(users.clone())).await
        }
        AttrsCmd::Set { user, attrs, bulk } => match user {
            None => crate::bulk::run::<SetAttr, T>(client, bulk, quiet).await,
            Some(user) => {
                no_file(bulk)?;
                let request = SetAttrRequest::new([UserAttrsSet::new(user.clone(), attrs.clone())]);
                call_and_print::<SetAttr, T>(client, request).await
            }
        },
        AttrsCmd::Remove { user, names, bulk } => match user {
            None => crate::bulk::run::<RemoveAttr, T>(client, bulk, quiet).await,
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
pub(crate) async fn push<T: Transport>(client: &Client<T>, args: &PushArgs) -> Result<(), Failure> {
    let msg_random = args.msg_random.unwrap_or_else(|| client.new_msg_random());
    let request = push_request(args, msg_random);
    tracing::info!(
        msg_random,
        "pushing (reuse --msg-random {msg_random} to retry this very push)"
    );
    call_and_print::<tim_core::all_member_push::Push, T>(client, request).await
}
