//! spec → validated model in which every Rust name and wire name is decided. Emitters only
//! read this model, never the raw spec.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::spec::{self, Limits, NamedType, Prim, Retry, Rule, Scope, Spec, TypeRef};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ty {
    Prim(Prim),
    List(Box<Ty>),
    Map(Box<Ty>),
    Named(String),
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) wire: String,
    pub(crate) rust: String,
    pub(crate) ty: Ty,
    pub(crate) required: bool,
    /// Whether the Rust type is `Option<_>` (absent optional fields are skipped on the wire).
    pub(crate) optional: bool,
    pub(crate) doc: String,
    pub(crate) note: Option<String>,
    pub(crate) limits: Limits,
}

#[derive(Debug, Clone)]
pub(crate) struct Struct {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) fields: Vec<Field>,
    pub(crate) rules: Vec<Rule>,
    pub(crate) note: Option<String>,
    /// Only ever sent by us, so unknown fields are a caller's typo and rejected.
    pub(crate) deny_unknown: bool,
    /// Carries the envelope fields (`ActionStatus`, `ErrorCode`, ...).
    pub(crate) envelope: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Variant {
    pub(crate) wire: String,
    pub(crate) rust: String,
    pub(crate) ty: String,
    pub(crate) doc: String,
}

#[derive(Debug, Clone)]
pub(crate) struct Union {
    pub(crate) name: String,
    pub(crate) doc: String,
    pub(crate) tag: String,
    pub(crate) content: String,
    pub(crate) variants: Vec<Variant>,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum TypeDef {
    Struct(Struct),
    Union(Union),
}

#[derive(Debug, Clone)]
pub(crate) struct ErrorDef {
    pub(crate) code: i64,
    pub(crate) rust: String,
    pub(crate) scope: Scope,
    pub(crate) retry: Retry,
    pub(crate) meaning: String,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RegionDef {
    pub(crate) name: String,
    pub(crate) rust: String,
    pub(crate) host: String,
    pub(crate) label: String,
    pub(crate) note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Batch {
    pub(crate) request_field: usize,
    pub(crate) response_field: Option<usize>,
    pub(crate) max_items: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) command: String,
    pub(crate) rust: String,
    /// The `Client` method that calls it, e.g. `get_tag`.
    pub(crate) method: String,
    /// The `Client` batch helper, for batch endpoints, e.g. `get_tag_batch`.
    pub(crate) batch_method: Option<String>,
    pub(crate) doc: String,
    pub(crate) idempotent: bool,
    pub(crate) rate: spec::Rate,
    pub(crate) request: Struct,
    pub(crate) response: Struct,
    pub(crate) errors: Vec<i64>,
    pub(crate) batch: Option<Batch>,
    pub(crate) note: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Model {
    pub(crate) source: String,
    pub(crate) family: String,
    pub(crate) doc: String,
    pub(crate) regions: Vec<RegionDef>,
    pub(crate) errors: Vec<ErrorDef>,
    pub(crate) types: BTreeMap<String, TypeDef>,
    pub(crate) endpoints: Vec<Endpoint>,
}

impl Model {
    pub(crate) fn error(&self, code: i64) -> &ErrorDef {
        self.errors
            .iter()
            .find(|e| e.code == code)
            .expect("codes were checked when the model was built")
    }
}

/// Methods `Client` has by hand; a generated endpoint method must not take one of these names.
pub(crate) const CLIENT_METHODS: &[&str] = &[
    "attempt",
    "base_url",
    "batch",
    "batch_concurrency",
    "batch_stream",
    "builder",
    "call",
    "call_ref",
    "chunks",
    "clone",
    "execute",
    "fmt",
    "from_env",
    "identifier",
    "new_msg_random",
    "rate_limiter",
    "retry_policy",
    "sdkappid",
    "transport",
    "with_batch_concurrency",
    "with_retry_policy",
];

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Collects every problem instead of stopping at the first, each with its spec path.
#[derive(Default)]
pub(crate) struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, path: impl std::fmt::Display, msg: impl std::fmt::Display) {
        self.0.push(format!("{path}: {msg}"));
    }
    pub(crate) fn into_result(self) -> Result<(), Vec<String>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

fn resolve(ty: &TypeRef) -> Ty {
    match ty {
        TypeRef::Prim(p) => Ty::Prim(*p),
        TypeRef::List { list } => Ty::List(Box::new(resolve(list))),
        TypeRef::Map { map } => Ty::Map(Box::new(resolve(map))),
        TypeRef::Ref { name } => Ty::Named(name.clone()),
    }
}

fn named_in(ty: &Ty, out: &mut Vec<String>) {
    match ty {
        Ty::Prim(_) => {}
        Ty::List(t) | Ty::Map(t) => named_in(t, out),
        Ty::Named(n) => out.push(n.clone()),
    }
}

fn is_string(ty: &Ty) -> bool {
    matches!(ty, Ty::Prim(Prim::String))
}

fn is_int(ty: &Ty) -> bool {
    matches!(ty, Ty::Prim(Prim::U32 | Prim::U64 | Prim::I64))
}

fn check_limits(p: &mut Problems, path: &str, ty: &Ty, limits: &Limits) {
    let collection = matches!(ty, Ty::List(_) | Ty::Map(_));
    let strings = match ty {
        Ty::Prim(Prim::String) => true,
        Ty::List(t) | Ty::Map(t) => is_string(t),
        _ => false,
    };
    if (limits.max_items.is_some() || limits.min_items.is_some()) && !collection {
        p.push(path, "max_items/min_items need a list or map type");
    }
    if (limits.max_bytes.is_some() || limits.non_empty.is_some()) && !strings {
        p.push(
            path,
            "max_bytes/non_empty need a string, a list of strings or a map of strings",
        );
    }
    if limits.keys.is_some() && !matches!(ty, Ty::Map(_)) {
        p.push(path, "keys needs a map type");
    }
    if let Some(r) = &limits.range {
        if !is_int(ty) {
            p.push(path, "range needs an integer type");
        }
        if r.min > r.max {
            p.push(path, format!("range min {} is above max {}", r.min, r.max));
        }
    }
}

fn limit_codes(limits: &Limits) -> Vec<i64> {
    [
        limits.max_items.and_then(|l| l.code),
        limits.min_items.and_then(|l| l.code),
        limits.max_bytes.and_then(|l| l.code),
        limits.non_empty.and_then(|l| l.code),
        limits.keys.as_ref().and_then(|l| l.code),
        limits.range.and_then(|l| l.code),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn rule_codes(rules: &[Rule]) -> Vec<i64> {
    rules
        .iter()
        .filter_map(|r| match r {
            Rule::Exclusive { code, .. } | Rule::Disjoint { code, .. } => *code,
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Role {
    Request,
    Response,
    Shared,
}

fn build_fields(
    p: &mut Problems,
    path: &str,
    specs: &[spec::FieldSpec],
    types: &BTreeSet<String>,
    role: Role,
) -> Vec<Field> {
    let mut wires = BTreeSet::new();
    let mut rusts = BTreeSet::new();
    let mut out = Vec::new();
    for (i, f) in specs.iter().enumerate() {
        let fpath = format!("{path}.fields[{i}] ({})", f.wire);
        let rust = f.rust.clone().unwrap_or_else(|| f.wire.to_snake_case());
        if KEYWORDS.contains(&rust.as_str()) {
            p.push(
                &fpath,
                format!("the Rust name `{rust}` is a keyword; give the field a \"rust\" name"),
            );
        }
        if matches!(
            rust.as_str(),
            "action_status" | "error_code" | "error_info" | "error_display"
        ) && role == Role::Response
        {
            p.push(
                &fpath,
                "envelope fields are added by the generator; do not list them",
            );
        }
        if !wires.insert(f.wire.clone()) {
            p.push(&fpath, format!("duplicate wire name {}", f.wire));
        }
        if !rusts.insert(rust.clone()) {
            p.push(
                &fpath,
                format!("Rust name `{rust}` collides with another field after case conversion"),
            );
        }
        let ty = resolve(&f.ty);
        let mut named = Vec::new();
        named_in(&ty, &mut named);
        for n in named {
            if !types.contains(&n) {
                p.push(&fpath, format!("unknown type reference {n:?}"));
            }
        }
        check_limits(p, &fpath, &ty, &f.limits);
        let collection = matches!(ty, Ty::List(_) | Ty::Map(_));
        // Lists and maps read back from the server default to empty instead of `None`.
        let defaults_to_empty = collection && role != Role::Request;
        let optional = !f.required && !defaults_to_empty;
        out.push(Field {
            wire: f.wire.clone(),
            rust,
            ty,
            required: f.required,
            optional,
            doc: f.doc.clone(),
            note: f.note.clone(),
            limits: f.limits.clone(),
        });
    }
    out
}

fn check_rules(p: &mut Problems, path: &str, rules: &[Rule], fields: &[Field]) {
    let find = |w: &str| fields.iter().find(|f| f.wire == w);
    for (i, r) in rules.iter().enumerate() {
        let rpath = format!("{path}.rules[{i}]");
        match r {
            Rule::Exclusive { groups, .. } => {
                for w in groups.iter().flatten() {
                    match find(w) {
                        None => p.push(&rpath, format!("unknown field {w:?}")),
                        Some(f) if !f.optional => p.push(
                            &rpath,
                            format!("field {w:?} is not optional, so it is always present"),
                        ),
                        Some(_) => {}
                    }
                }
            }
            Rule::Disjoint { fields: names, .. } => {
                for w in names {
                    match find(w) {
                        None => p.push(&rpath, format!("unknown field {w:?}")),
                        Some(f)
                            if !(f.optional
                                && f.ty == Ty::List(Box::new(Ty::Prim(Prim::String)))) =>
                        {
                            p.push(
                                &rpath,
                                format!("field {w:?} must be an optional list of strings"),
                            )
                        }
                        Some(_) => {}
                    }
                }
            }
        }
    }
}

/// Builds and checks the model; every problem is reported with its spec path.
pub(crate) fn build(source: &str, spec: Spec) -> Result<Model, Vec<String>> {
    let mut p = Problems::default();
    let type_names: BTreeSet<String> = spec.types.keys().cloned().collect();

    // Errors.
    let mut codes = BTreeSet::new();
    let mut names = BTreeSet::new();
    for (i, e) in spec.errors.iter().enumerate() {
        if !codes.insert(e.code) {
            p.push(format!("errors[{i}]"), format!("duplicate code {}", e.code));
        }
        if !names.insert(e.rust.clone()) || matches!(e.rust.as_str(), "Unknown" | "Other") {
            p.push(
                format!("errors[{i}]"),
                format!("Rust name {} is taken", e.rust),
            );
        }
    }
    let known = |c: i64| codes.contains(&c);

    // Regions.
    let mut rnames = BTreeSet::new();
    for (i, r) in spec.regions.iter().enumerate() {
        if !rnames.insert(r.name.clone()) || !rnames.insert(r.rust.clone()) {
            p.push(format!("regions[{i}]"), "duplicate region name");
        }
    }

    // Which named types appear in requests and in responses.
    let mut in_response = BTreeSet::new();
    let mut in_request = BTreeSet::new();
    {
        let reach = |start: Vec<String>, into: &mut BTreeSet<String>| {
            let mut stack = start;
            while let Some(n) = stack.pop() {
                if !into.insert(n.clone()) {
                    continue;
                }
                match spec.types.get(&n) {
                    Some(NamedType::Struct { fields, .. }) => {
                        for f in fields {
                            named_in(&resolve(&f.ty), &mut stack);
                        }
                    }
                    Some(NamedType::Union { variants, .. }) => {
                        stack.extend(variants.iter().map(|v| v.ty.clone()))
                    }
                    None => {}
                }
            }
        };
        for e in &spec.endpoints {
            let mut req = Vec::new();
            for f in &e.request.fields {
                named_in(&resolve(&f.ty), &mut req);
            }
            reach(req, &mut in_request);
            let mut resp = Vec::new();
            for f in &e.response.fields {
                named_in(&resolve(&f.ty), &mut resp);
            }
            reach(resp, &mut in_response);
        }
    }

    // Named types.
    let mut types = BTreeMap::new();
    for (name, t) in &spec.types {
        let path = format!("types.{name}");
        if name.to_upper_camel_case() != *name {
            p.push(&path, "type names must be UpperCamelCase");
        }
        if !in_request.contains(name) && !in_response.contains(name) {
            p.push(&path, "type is never used");
        }
        match t {
            NamedType::Struct {
                doc,
                fields,
                rules,
                note,
            } => {
                let role = if in_response.contains(name) {
                    Role::Shared
                } else {
                    Role::Request
                };
                let fields = build_fields(&mut p, &path, fields, &type_names, role);
                check_rules(&mut p, &path, rules, &fields);
                for c in fields
                    .iter()
                    .flat_map(|f| limit_codes(&f.limits))
                    .chain(rule_codes(rules))
                {
                    if !known(c) {
                        p.push(&path, format!("code {c} is not in the errors table"));
                    }
                }
                types.insert(
                    name.clone(),
                    TypeDef::Struct(Struct {
                        name: name.clone(),
                        doc: doc.clone(),
                        fields,
                        rules: rules.clone(),
                        note: note.clone(),
                        deny_unknown: !in_response.contains(name),
                        envelope: false,
                    }),
                );
            }
            NamedType::Union {
                doc,
                tag,
                content,
                variants,
                note,
            } => {
                if in_response.contains(name) {
                    p.push(&path, "unions are request-only for now: a response union would need a catch-all variant");
                }
                let mut seen = BTreeSet::new();
                for (i, v) in variants.iter().enumerate() {
                    let vpath = format!("{path}.variants[{i}]");
                    if !seen.insert(v.rust.clone()) || !seen.insert(v.wire.clone()) {
                        p.push(&vpath, "duplicate variant");
                    }
                    match spec.types.get(&v.ty) {
                        Some(NamedType::Struct { .. }) => {}
                        _ => p.push(
                            &vpath,
                            format!("variant type {:?} must name a struct in types", v.ty),
                        ),
                    }
                }
                types.insert(
                    name.clone(),
                    TypeDef::Union(Union {
                        name: name.clone(),
                        doc: doc.clone(),
                        tag: tag.clone(),
                        content: content.clone(),
                        variants: variants
                            .iter()
                            .map(|v| Variant {
                                wire: v.wire.clone(),
                                rust: v.rust.clone(),
                                ty: v.ty.clone(),
                                doc: v.doc.clone(),
                            })
                            .collect(),
                        note: note.clone(),
                    }),
                );
            }
        }
    }

    // Endpoints.
    let mut commands = BTreeSet::new();
    let mut rust_names = BTreeSet::new();
    let mut method_names: BTreeSet<String> = BTreeSet::new();
    let mut endpoints = Vec::new();
    for (i, e) in spec.endpoints.iter().enumerate() {
        let path = format!("endpoints[{i}] ({})", e.command);
        let rust = e
            .rust
            .clone()
            .unwrap_or_else(|| e.command.trim_start_matches("im_").to_upper_camel_case());
        if !commands.insert(e.command.clone()) {
            p.push(&path, "duplicate command");
        }
        if !rust_names.insert(rust.clone()) {
            p.push(
                &path,
                format!("Rust name {rust} collides with another endpoint"),
            );
        }
        let method = rust.to_snake_case();
        let batch_method = e.batch.as_ref().map(|_| format!("{method}_batch"));
        for m in std::iter::once(&method).chain(batch_method.as_ref()) {
            if CLIENT_METHODS.contains(&m.as_str()) || KEYWORDS.contains(&m.as_str()) {
                p.push(
                    &path,
                    format!(
                        "client method name `{m}` is taken; give the endpoint another \"rust\" name"
                    ),
                );
            } else if !method_names.insert(m.clone()) {
                p.push(
                    &path,
                    format!("client method name `{m}` collides with another endpoint's"),
                );
            }
        }
        for suffix in ["", "Request", "Response", "ErrorCode"] {
            let n = format!("{rust}{suffix}");
            if type_names.contains(&n) {
                p.push(
                    &path,
                    format!("generated name {n} collides with a type in types"),
                );
            }
        }
        let req_fields = build_fields(
            &mut p,
            &format!("{path}.request"),
            &e.request.fields,
            &type_names,
            Role::Request,
        );
        let resp_fields = build_fields(
            &mut p,
            &format!("{path}.response"),
            &e.response.fields,
            &type_names,
            Role::Response,
        );
        check_rules(
            &mut p,
            &format!("{path}.request"),
            &e.request.rules,
            &req_fields,
        );
        if !e.response.rules.is_empty() {
            p.push(format!("{path}.response"), "rules apply to requests only");
        }
        let mut seen = BTreeSet::new();
        for c in &e.errors {
            if !known(*c) {
                p.push(&path, format!("error {c} is not in the errors table"));
            }
            if !seen.insert(*c) {
                p.push(&path, format!("error {c} listed twice"));
            }
        }
        // Every code a request limit can produce must be documented for the endpoint.
        let mut reachable: Vec<String> = Vec::new();
        for f in &req_fields {
            named_in(&f.ty, &mut reachable);
        }
        let mut limit_codes_all: Vec<i64> = req_fields
            .iter()
            .flat_map(|f| limit_codes(&f.limits))
            .collect();
        limit_codes_all.extend(rule_codes(&e.request.rules));
        let mut visited = BTreeSet::new();
        while let Some(n) = reachable.pop() {
            if !visited.insert(n.clone()) {
                continue;
            }
            match spec.types.get(&n) {
                Some(NamedType::Struct { fields, rules, .. }) => {
                    for f in fields {
                        limit_codes_all.extend(limit_codes(&f.limits));
                        named_in(&resolve(&f.ty), &mut reachable);
                    }
                    limit_codes_all.extend(rule_codes(rules));
                }
                Some(NamedType::Union { variants, .. }) => {
                    reachable.extend(variants.iter().map(|v| v.ty.clone()))
                }
                None => {}
            }
        }
        for c in limit_codes_all {
            let public = spec
                .errors
                .iter()
                .any(|x| x.code == c && x.scope == Scope::Public);
            if !public && !e.errors.contains(&c) {
                p.push(
                    &path,
                    format!("a request limit answers {c}, which is not in this endpoint's errors"),
                );
            }
        }
        let batch = match &e.batch {
            None => None,
            Some(b) => {
                let bpath = format!("{path}.batch");
                let req_idx = req_fields.iter().position(|f| f.wire == b.request);
                let mut max = None;
                match req_idx.map(|i| &req_fields[i]) {
                    None => p.push(&bpath, format!("request field {:?} not found", b.request)),
                    Some(f) => {
                        if !matches!(f.ty, Ty::List(_)) || !f.required {
                            p.push(&bpath, "the batch request field must be a required list");
                        }
                        match f.limits.max_items {
                            Some(l) => max = Some(l.value),
                            None => {
                                p.push(&bpath, "the batch request field needs a max_items limit")
                            }
                        }
                    }
                }
                for (j, f) in req_fields.iter().enumerate() {
                    if Some(j) != req_idx && !f.optional {
                        p.push(
                            &bpath,
                            format!(
                                "other request fields must be optional ({} is required)",
                                f.wire
                            ),
                        );
                    }
                }
                let resp_idx = match &b.response {
                    None => None,
                    Some(w) => {
                        let idx = resp_fields.iter().position(|f| &f.wire == w);
                        match idx.map(|i| &resp_fields[i]) {
                            None => p.push(&bpath, format!("response field {w:?} not found")),
                            Some(f) if !matches!(f.ty, Ty::List(_)) => {
                                p.push(&bpath, "the batch response field must be a list")
                            }
                            Some(_) => {}
                        }
                        idx
                    }
                };
                match (req_idx, max) {
                    (Some(request_field), Some(max_items)) => Some(Batch {
                        request_field,
                        response_field: resp_idx,
                        max_items,
                    }),
                    _ => None,
                }
            }
        };
        if e.rate.per_second.is_none()
            && e.rate.per_day.is_none()
            && e.rate.min_interval_ms.is_none()
        {
            p.push(
                format!("{path}.rate"),
                "at least one rate limit is required",
            );
        }
        endpoints.push(Endpoint {
            command: e.command.clone(),
            rust: rust.clone(),
            method,
            batch_method,
            doc: e.doc.clone(),
            idempotent: e.idempotent,
            rate: e.rate,
            request: Struct {
                name: format!("{rust}Request"),
                doc: format!("Request body of `{}`.", e.command),
                fields: req_fields,
                rules: e.request.rules.clone(),
                note: e.request.note.clone(),
                deny_unknown: true,
                envelope: false,
            },
            response: Struct {
                name: format!("{rust}Response"),
                doc: format!("Answer of `{}`, envelope included.", e.command),
                fields: resp_fields,
                rules: Vec::new(),
                note: e.response.note.clone(),
                deny_unknown: false,
                envelope: true,
            },
            errors: e.errors.clone(),
            batch,
            note: e.note.clone(),
        });
    }

    p.into_result()?;
    Ok(Model {
        source: source.to_owned(),
        family: spec.family,
        doc: spec.doc,
        regions: spec
            .regions
            .into_iter()
            .map(|r| RegionDef {
                name: r.name,
                rust: r.rust,
                host: r.host,
                label: r.label,
                note: r.note,
            })
            .collect(),
        errors: spec
            .errors
            .into_iter()
            .map(|e| ErrorDef {
                code: e.code,
                rust: e.rust,
                scope: e.scope,
                retry: e.retry,
                meaning: e.meaning,
                note: e.note,
            })
            .collect(),
        types,
        endpoints,
    })
}
