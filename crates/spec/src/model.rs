//! spec files → checked [`Model`]. Every problem is collected with its file and spec path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::raw::{self, CommonFile, NamedType, ServiceFile, TypeRef};
use crate::{
    Batch, Endpoint, ErrorDef, Field, Limits, Model, Prim, RegionDef, Role, Rule, Service, Struct,
    Ty, TypeDef, Union, Variant,
};

/// Methods `Client` has by hand; a service accessor must not take one of these names.
pub const CLIENT_METHODS: &[&str] = &[
    "base_url",
    "batch",
    "batch_concurrency",
    "batch_stream",
    "builder",
    "call",
    "call_ref",
    "chunks",
    "clone",
    "fmt",
    "from_env",
    "identifier",
    "new_msg_random",
    "rate_limiter",
    "retry_policy",
    "roam_messages",
    "sdkappid",
    "send",
    "transport",
    "with_batch_concurrency",
    "with_retry_policy",
];

/// Names a service handle has by hand; an endpoint method must not take one of these.
const HANDLE_METHODS: &[&str] = &["client", "clone", "fmt", "new"];

const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Module names the generated tree uses itself.
const RESERVED_MODULES: &[&str] = &["common", "errors", "regions", "registry", "std", "core"];

/// Reads `spec/common.json` and every `spec/services/*.json` under `root` and builds the model.
pub fn load(root: &Path) -> Result<Model, Vec<String>> {
    let mut files = vec!["spec/common.json".to_owned()];
    let dir = root.join("spec/services");
    let mut services: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| vec![format!("spec/services/: cannot list: {e}")])?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .map(|n| format!("spec/services/{n}"))
        .collect();
    services.sort();
    if services.is_empty() {
        return Err(vec![
            "spec/services/: no service file (*.json) found".into(),
        ]);
    }
    files.extend(services);
    let texts = files
        .iter()
        .map(|f| {
            std::fs::read_to_string(root.join(f))
                .map(|t| (f.clone(), t))
                .map_err(|e| vec![format!("{f}: cannot read: {e}")])
        })
        .collect::<Result<Vec<_>, _>>()?;
    load_files(&texts)
}

fn parse<T: serde::de::DeserializeOwned>(name: &str, text: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let at = if path == "." { "/".to_owned() } else { path };
        format!("{name}: at {at}: {}", e.into_inner())
    })
}

/// Builds the model from file texts: the first is `common.json`, the others are services, each
/// as `(display name, text)`.
pub fn load_files(files: &[(String, String)]) -> Result<Model, Vec<String>> {
    let ((common_name, common_text), services) = files
        .split_first()
        .ok_or_else(|| vec!["no spec files".to_owned()])?;
    let mut problems = Vec::new();
    let common: Option<CommonFile> = parse(common_name, common_text)
        .map_err(|e| problems.push(e))
        .ok();
    let mut parsed = Vec::new();
    for (name, text) in services {
        match parse::<ServiceFile>(name, text) {
            Ok(s) => parsed.push((name.clone(), s)),
            Err(e) => problems.push(e),
        }
    }
    let Some(common) = common else {
        return Err(problems);
    };
    if !problems.is_empty() {
        return Err(problems);
    }
    build(common_name, common, parsed)
}
/// Collects every problem instead of stopping at the first, each with its spec path.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn push(&mut self, path: impl std::fmt::Display, msg: impl std::fmt::Display) {
        self.0.push(format!("{path}: {msg}"));
    }
    fn into_result(self) -> Result<(), Vec<String>> {
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
    if limits.invalid_item.is_some() && !collection {
        p.push(path, "invalid_item needs a list or map type");
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

fn build_fields(
    p: &mut Problems,
    path: &str,
    specs: &[raw::FieldSpec],
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
        if f.omit_empty && (f.required || !matches!(ty, Ty::List(_) | Ty::Map(_))) {
            p.push(&fpath, "omit_empty needs an optional list or map");
        }
        if f.limits.missing.is_some() && !f.required {
            p.push(&fpath, "missing needs a required field");
        }
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
            omit_empty: f.omit_empty,
        });
    }
    out
}

fn check_rules(p: &mut Problems, path: &str, rules: &[Rule], fields: &[Field]) {
    let find = |w: &str| fields.iter().find(|f| f.wire == w);
    for (i, r) in rules.iter().enumerate() {
        let rpath = format!("{path}.rules[{i}]");
        match r {
            Rule::TagValue { tag, value, .. } => {
                match find(tag) {
                    Some(f) if f.ty == Ty::Prim(Prim::String) && !f.optional => {}
                    _ => p.push(&rpath, format!("{tag:?} must be a required string field")),
                }
                match find(value) {
                    Some(f) if f.ty == Ty::Prim(Prim::Json) && !f.optional => {}
                    _ => p.push(&rpath, format!("{value:?} must be a required json field")),
                }
            }
            Rule::KnownTags { field, .. } => match find(field) {
                Some(f) if f.ty == Ty::List(Box::new(Ty::Prim(Prim::String))) && !f.optional => {}
                _ => p.push(
                    &rpath,
                    format!("{field:?} must be a required list of strings"),
                ),
            },
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

fn struct_types_in(t: &NamedType, out: &mut Vec<String>) {
    match t {
        NamedType::Struct { fields, .. } => {
            for f in fields {
                named_in(&resolve(&f.ty), out);
            }
        }
        NamedType::Union { variants, .. } => out.extend(variants.iter().map(|v| v.ty.clone())),
    }
}

/// Every named type reachable from `start`.
fn reach(types: &BTreeMap<String, NamedType>, start: Vec<String>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut stack = start;
    while let Some(n) = stack.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(t) = types.get(&n) {
            struct_types_in(t, &mut stack);
        }
    }
    seen
}

fn build(
    common_name: &str,
    common: CommonFile,
    services: Vec<(String, ServiceFile)>,
) -> Result<Model, Vec<String>> {
    let mut p = Problems::default();

    // Errors: public first, then each service's; a code is defined once in the whole spec.
    let mut errors: Vec<ErrorDef> = Vec::new();
    let mut error_names = BTreeSet::new();
    let mut add_errors = |p: &mut Problems,
                          file: &str,
                          service: Option<&str>,
                          list: &[raw::ErrorSpec]| {
        for (i, e) in list.iter().enumerate() {
            let path = format!("{file}: errors[{i}] ({})", e.code);
            if let Some(other) = errors.iter().find(|x| x.code == e.code) {
                p.push(
                    &path,
                    format!(
                        "code {} is already defined ({}); a code is defined once, in common.json when services share it",
                        e.code,
                        other.service.as_deref().unwrap_or("common.json")
                    ),
                );
                continue;
            }
            if !error_names.insert(e.rust.clone()) || matches!(e.rust.as_str(), "Unknown" | "Other")
            {
                p.push(&path, format!("Rust name {} is taken", e.rust));
            }
            if e.rust.to_upper_camel_case() != e.rust {
                p.push(&path, "Rust names of codes must be UpperCamelCase");
            }
            errors.push(ErrorDef {
                code: e.code,
                rust: e.rust.clone(),
                kind: e.kind,
                meaning: e.meaning.clone(),
                note: e.note.clone(),
                service: service.map(str::to_owned),
            });
        }
    };
    add_errors(&mut p, common_name, None, &common.errors);
    for (file, s) in &services {
        add_errors(&mut p, file, Some(&s.service), &s.errors);
    }
    let known = |c: i64| errors.iter().any(|e| e.code == c);
    let public = |c: i64| errors.iter().any(|e| e.code == c && e.service.is_none());

    // Regions.
    let mut rnames = BTreeSet::new();
    for (i, r) in common.regions.iter().enumerate() {
        if !rnames.insert(r.name.clone()) || !rnames.insert(r.rust.clone()) {
            p.push(
                format!("{common_name}: regions[{i}]"),
                "duplicate region name",
            );
        }
    }

    // Services: names, modules.
    let mut modules = BTreeSet::new();
    let mut service_modules = Vec::new();
    for (file, s) in &services {
        let module = s.service.to_snake_case();
        let stem = file
            .rsplit('/')
            .next()
            .unwrap_or(file)
            .trim_end_matches(".json");
        if stem != s.service {
            p.push(
                format!("{file}: service"),
                format!(
                    "the file of service {:?} must be named {}.json",
                    s.service, s.service
                ),
            );
        }
        if KEYWORDS.contains(&module.as_str())
            || RESERVED_MODULES.contains(&module.as_str())
            || CLIENT_METHODS.contains(&module.as_str())
        {
            p.push(
                format!("{file}: service"),
                format!("module name `{module}` is reserved"),
            );
        }
        if !modules.insert(module.clone()) {
            p.push(
                format!("{file}: service"),
                format!("module name `{module}` collides with another service's"),
            );
        }
        service_modules.push(module);
    }

    // Named types, one namespace for the whole spec (common types are visible in every
    // service module).
    let mut raw_types: BTreeMap<String, NamedType> = BTreeMap::new();
    let mut type_file: BTreeMap<String, String> = BTreeMap::new();
    let mut add_types = |p: &mut Problems, file: &str, types: &BTreeMap<String, NamedType>| {
        for (name, t) in types {
            if let Some(other) = type_file.get(name) {
                p.push(
                    format!("{file}: types.{name}"),
                    format!("type {name} is already defined in {other}"),
                );
                continue;
            }
            type_file.insert(name.clone(), file.to_owned());
            raw_types.insert(name.clone(), t.clone());
        }
    };
    add_types(&mut p, common_name, &common.types);
    for (file, s) in &services {
        add_types(&mut p, file, &s.types);
    }
    let type_names: BTreeSet<String> = raw_types.keys().cloned().collect();

    // Which named types appear in requests and in responses.
    let mut req_roots = Vec::new();
    let mut resp_roots = Vec::new();
    for (_, s) in &services {
        for e in &s.endpoints {
            for f in &e.request.fields {
                named_in(&resolve(&f.ty), &mut req_roots);
            }
            for f in &e.response.fields {
                named_in(&resolve(&f.ty), &mut resp_roots);
            }
        }
    }
    let in_request = reach(&raw_types, req_roots);
    let in_response = reach(&raw_types, resp_roots);

    let mut types = BTreeMap::new();
    for (name, t) in &raw_types {
        let path = format!("{}: types.{name}", type_file[name]);
        if name.to_upper_camel_case() != *name {
            p.push(&path, "type names must be UpperCamelCase");
        }
        let role = match (in_request.contains(name), in_response.contains(name)) {
            (true, true) => Role::Shared,
            (true, false) => Role::Request,
            (false, true) => Role::Response,
            (false, false) => {
                p.push(&path, "type is never used");
                Role::Shared
            }
        };
        match t {
            NamedType::Struct {
                doc,
                fields,
                rules,
                note,
            } => {
                let fields = build_fields(&mut p, &path, fields, &type_names, role);
                check_rules(&mut p, &path, rules, &fields);
                for c in fields
                    .iter()
                    .flat_map(|f| f.limits.codes())
                    .chain(rules.iter().filter_map(Rule::code))
                {
                    if !known(c) {
                        p.push(&path, format!("code {c} is not in any errors table"));
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
                        role,
                    }),
                );
            }
            NamedType::Union {
                doc,
                tag,
                content,
                variants,
                invalid_content,
                note,
            } => {
                if let Some(c) = invalid_content.and_then(|c| c.code) {
                    if !known(c) {
                        p.push(&path, format!("code {c} is not in any errors table"));
                    }
                }
                let mut seen = BTreeSet::new();
                for (i, v) in variants.iter().enumerate() {
                    let vpath = format!("{path}.variants[{i}]");
                    if !seen.insert(v.rust.clone()) || !seen.insert(v.wire.clone()) {
                        p.push(&vpath, "duplicate variant");
                    }
                    if v.rust == "Other" {
                        p.push(&vpath, "`Other` is the generated catch-all variant");
                    }
                    match raw_types.get(&v.ty) {
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
                        invalid_content: invalid_content.and_then(|c| c.code),
                        note: note.clone(),
                    }),
                );
            }
        }
    }

    // A service sees the common types and its own; a common type sees only common types.
    for (file, s) in &services {
        let own: BTreeSet<&String> = s.types.keys().collect();
        let visible = |n: &String| common.types.contains_key(n) || own.contains(n);
        let mut refs: Vec<(String, String)> = Vec::new();
        for (name, t) in &s.types {
            let mut out = Vec::new();
            struct_types_in(t, &mut out);
            refs.extend(out.into_iter().map(|r| (format!("types.{name}"), r)));
        }
        for e in &s.endpoints {
            for f in e.request.fields.iter().chain(&e.response.fields) {
                let mut out = Vec::new();
                named_in(&resolve(&f.ty), &mut out);
                refs.extend(
                    out.into_iter()
                        .map(|r| (format!("endpoints ({})", e.command), r)),
                );
            }
        }
        for (at, r) in refs {
            if type_names.contains(&r) && !visible(&r) {
                p.push(
                    format!("{file}: {at}"),
                    format!(
                        "type {r} belongs to another service; move it to common.json to share it"
                    ),
                );
            }
        }
    }
    for (name, t) in &common.types {
        let mut out = Vec::new();
        struct_types_in(t, &mut out);
        for r in out {
            if type_names.contains(&r) && !common.types.contains_key(&r) {
                p.push(
                    format!("{common_name}: types.{name}"),
                    format!("a common type cannot use the service type {r}"),
                );
            }
        }
    }

    // Endpoints, per service.
    let mut out_services = Vec::new();
    let mut ids = BTreeSet::new();
    for ((file, s), module) in services.iter().zip(&service_modules) {
        let camel = module.to_upper_camel_case();
        let mut commands = BTreeSet::new();
        let mut rust_names = BTreeSet::new();
        let mut method_names: BTreeSet<String> = BTreeSet::new();
        let mut endpoints = Vec::new();
        for (i, e) in s.endpoints.iter().enumerate() {
            let path = format!("{file}: endpoints[{i}] ({})", e.command);
            let rust = e
                .rust
                .clone()
                .unwrap_or_else(|| e.command.trim_start_matches("im_").to_upper_camel_case());
            if !commands.insert(e.command.clone()) {
                p.push(&path, "duplicate command");
            }
            if rust.to_upper_camel_case() != rust {
                p.push(&path, format!("Rust name {rust} must be UpperCamelCase"));
            }
            if !rust_names.insert(rust.clone()) || rust == "Api" {
                p.push(
                    &path,
                    format!("Rust name {rust} collides with another name of the service"),
                );
            }
            let id = format!("{camel}{rust}");
            if !ids.insert(id.clone()) {
                p.push(
                    &path,
                    format!("registry name {id} collides with another endpoint's"),
                );
            }
            let method = rust.to_snake_case();
            let batch_method = e.batch.as_ref().map(|_| format!("{method}_batch"));
            for m in std::iter::once(&method).chain(batch_method.as_ref()) {
                if HANDLE_METHODS.contains(&m.as_str()) || KEYWORDS.contains(&m.as_str()) {
                    p.push(
                        &path,
                        format!(
                            "method name `{m}` is taken; give the endpoint another \"rust\" name"
                        ),
                    );
                } else if !method_names.insert(m.clone()) {
                    p.push(
                        &path,
                        format!("method name `{m}` collides with another endpoint's"),
                    );
                }
            }
            for suffix in ["", "Request", "Response", "Answer"] {
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
                    p.push(&path, format!("error {c} is not in any errors table"));
                }
                if !seen.insert(*c) {
                    p.push(&path, format!("error {c} listed twice"));
                }
            }
            // Every code a request limit can produce must be documented for the endpoint.
            let mut roots = Vec::new();
            for f in &req_fields {
                named_in(&f.ty, &mut roots);
            }
            let mut limit_codes: Vec<i64> =
                req_fields.iter().flat_map(|f| f.limits.codes()).collect();
            limit_codes.extend(e.request.rules.iter().filter_map(Rule::code));
            for n in reach(&raw_types, roots) {
                match raw_types.get(&n) {
                    Some(NamedType::Struct { fields, rules, .. }) => {
                        limit_codes.extend(fields.iter().flat_map(|f| f.limits.codes()));
                        limit_codes.extend(rules.iter().filter_map(Rule::code));
                    }
                    Some(NamedType::Union {
                        invalid_content, ..
                    }) => limit_codes.extend(invalid_content.and_then(|c| c.code)),
                    None => {}
                }
            }
            for c in limit_codes {
                if !public(c) && !e.errors.contains(&c) {
                    p.push(
                        &path,
                        format!(
                            "a request limit answers {c}, which is not in this endpoint's errors"
                        ),
                    );
                }
            }
            let batch = build_batch(&mut p, &path, e, &req_fields, &resp_fields, &types);
            if let Some(w) = &e.rate.counted_by {
                let is_list = req_fields
                    .iter()
                    .any(|f| &f.wire == w && matches!(f.ty, Ty::List(_)) && f.required);
                if !is_list {
                    p.push(
                        format!("{path}.rate.counted_by"),
                        format!("{w:?} must name a required list of the request"),
                    );
                }
                if e.rate.per_minute.is_none() {
                    p.push(
                        format!("{path}.rate.counted_by"),
                        "counted_by applies to per_minute, which is missing",
                    );
                }
            }
            if e.rate.per_second.is_none()
                && e.rate.per_minute.is_none()
                && e.rate.per_day.is_none()
                && e.rate.min_interval_ms.is_none()
            {
                p.push(
                    format!("{path}.rate"),
                    "at least one rate limit is required",
                );
            }
            let mut sample_names = BTreeSet::new();
            for (j, sample) in e.samples.iter().enumerate() {
                if !sample_names.insert(sample.name.clone()) {
                    p.push(format!("{path}.samples[{j}]"), "duplicate sample name");
                }
            }
            if !e.samples.iter().any(|s| s.request.is_some()) {
                p.push(
                    format!("{path}.samples"),
                    "at least one sample with a request is required",
                );
            }
            endpoints.push(Endpoint {
                service: s.service.clone(),
                command: e.command.clone(),
                rust: rust.clone(),
                id,
                method,
                batch_method,
                doc: e.doc.clone(),
                page: e.page,
                idempotent: e.idempotent,
                rate: e.rate.clone(),
                request: Struct {
                    name: format!("{rust}Request"),
                    doc: format!("Request body of `{}`.", e.command),
                    fields: req_fields,
                    rules: e.request.rules.clone(),
                    note: e.request.note.clone(),
                    role: Role::Request,
                },
                response: Struct {
                    name: format!("{rust}Response"),
                    doc: format!(
                        "What a successful `{}` answers (the envelope is checked and dropped).",
                        e.command
                    ),
                    fields: resp_fields,
                    rules: Vec::new(),
                    note: e.response.note.clone(),
                    role: Role::Response,
                },
                errors: e.errors.clone(),
                batch,
                note: e.note.clone(),
                samples: e.samples.clone(),
            });
        }
        let mut tag_sets = Vec::new();
        for (name, set) in &s.tags {
            let tpath = format!("{file}: tags.{name}");
            if type_names.contains(name) {
                p.push(&tpath, "the name is taken by a type");
            }
            for c in set.codes() {
                if !known(c) {
                    p.push(&tpath, format!("code {c} is not in any errors table"));
                }
            }
            let mut rusts = BTreeSet::new();
            for (i, t) in set.standard.iter().enumerate() {
                let at = format!("{tpath}.standard[{i}] ({})", t.wire);
                if !rusts.insert(t.rust.clone()) {
                    p.push(&at, "duplicate Rust name");
                }
                if !matches!(t.ty, Prim::String | Prim::U32 | Prim::U64) {
                    p.push(&at, "a tag's type is string, u32 or u64");
                }
                check_limits(&mut p, &at, &Ty::Prim(t.ty), &t.limits);
                if t.values.is_some() && t.ty != Prim::String {
                    p.push(&at, "values need a string tag");
                }
            }
            let mut set = set.clone();
            set.name = name.clone();
            tag_sets.push(set);
        }
        let rules_of_service = s
            .types
            .values()
            .filter_map(|t| match t {
                NamedType::Struct { rules, .. } => Some(rules),
                NamedType::Union { .. } => None,
            })
            .flatten()
            .chain(s.endpoints.iter().flat_map(|e| &e.request.rules));
        for r in rules_of_service {
            if let Rule::TagValue { tags, .. } | Rule::KnownTags { tags, .. } = r {
                if !s.tags.contains_key(tags) {
                    p.push(
                        file,
                        format!(
                            "a rule names tag set {tags:?}, which this service does not define"
                        ),
                    );
                }
            }
        }
        out_services.push(Service {
            name: s.service.clone(),
            module: module.clone(),
            doc: s.doc.clone(),
            note: s.note.clone(),
            source: file.clone(),
            types: s.types.keys().cloned().collect(),
            tag_sets,
            endpoints,
        });
    }

    p.into_result()?;
    out_services.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Model {
        doc: common.doc,
        regions: common
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
        errors,
        types,
        common_types: common.types.keys().cloned().collect(),
        services: out_services,
    })
}

fn build_failures(
    p: &mut Problems,
    bpath: &str,
    spec: &raw::FailuresSpec,
    resp_fields: &[Field],
    types: &BTreeMap<String, TypeDef>,
) -> Option<crate::Failures> {
    let fpath = format!("{bpath}.failures");
    let find = |w: &str| resp_fields.iter().position(|f| f.wire == w);
    match spec {
        raw::FailuresSpec::Accounts { accounts } => match find(accounts) {
            Some(i) if resp_fields[i].ty == Ty::List(Box::new(Ty::Prim(Prim::String))) => {
                Some(crate::Failures::Accounts { field: i })
            }
            Some(_) => {
                p.push(&fpath, format!("{accounts} must be a list of strings"));
                None
            }
            None => {
                p.push(&fpath, format!("response field {accounts:?} not found"));
                None
            }
        },
        raw::FailuresSpec::List {
            list,
            key,
            code,
            info,
        } => {
            let Some(i) = find(list) else {
                p.push(&fpath, format!("response field {list:?} not found"));
                return None;
            };
            let Ty::List(inner) = &resp_fields[i].ty else {
                p.push(&fpath, format!("{list} must be a list of a struct"));
                return None;
            };
            let Ty::Named(item_type) = &**inner else {
                p.push(&fpath, format!("{list} must be a list of a struct"));
                return None;
            };
            let Some(TypeDef::Struct(s)) = types.get(item_type) else {
                p.push(&fpath, format!("{list} must be a list of a struct"));
                return None;
            };
            // (Rust name, whether it is an `Option`) of a field of the wanted type.
            let field = |w: &str, want: &dyn Fn(&Ty) -> bool| {
                s.fields
                    .iter()
                    .find(|f| f.wire == w && want(&f.ty))
                    .map(|f| (f.rust.clone(), f.optional))
            };
            let is_string = |t: &Ty| *t == Ty::Prim(Prim::String);
            let is_int = |t: &Ty| matches!(t, Ty::Prim(Prim::I64 | Prim::U32 | Prim::U64));
            let key_f = field(key, &is_string);
            let code_f = field(code, &is_int);
            let info_f = match info {
                None => Some(None),
                Some(w) => field(w, &is_string).map(Some),
            };
            match (key_f, code_f, info_f) {
                (Some((key, key_optional)), Some((code, code_optional)), Some(info)) => {
                    Some(crate::Failures::List {
                        field: i,
                        item_type: item_type.clone(),
                        key,
                        key_optional,
                        code,
                        code_optional,
                        info,
                    })
                }
                _ => {
                    p.push(
                        &fpath,
                        format!("{item_type} needs a string {key:?}, an integer {code:?} and a string info field if one is named"),
                    );
                    None
                }
            }
        }
    }
}

fn build_batch(
    p: &mut Problems,
    path: &str,
    e: &raw::EndpointSpec,
    req_fields: &[Field],
    resp_fields: &[Field],
    types: &BTreeMap<String, TypeDef>,
) -> Option<Batch> {
    let b = e.batch.as_ref()?;
    let bpath = format!("{path}.batch");
    let req_idx = req_fields.iter().position(|f| f.wire == b.request);
    let mut max = None;
    match req_idx.map(|i| &req_fields[i]) {
        None => p.push(&bpath, format!("request field {:?} not found", b.request)),
        Some(f) => {
            // Optional when the endpoint takes one of two forms (e.g. multiaccount_import's
            // Accounts or AccountList): the batch helpers send this one.
            if !matches!(f.ty, Ty::List(_)) {
                p.push(&bpath, "the batch request field must be a list");
            }
            match f.limits.max_items {
                Some(l) => max = Some(l.value),
                None => p.push(&bpath, "the batch request field needs a max_items limit"),
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
    let failures = b
        .failures
        .as_ref()
        .and_then(|f| build_failures(p, &bpath, f, resp_fields, types));
    for c in &b.item_codes {
        if !e.errors.contains(c) {
            p.push(
                format!("{bpath}.item_codes"),
                format!("{c} is not in this endpoint's errors"),
            );
        }
    }
    match (req_idx, max) {
        (Some(request_field), Some(max_items)) => Some(Batch {
            request_field,
            response_field: resp_idx,
            max_items,
            failures,
            item_codes: b.item_codes.clone(),
        }),
        _ => None,
    }
}
