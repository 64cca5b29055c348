//! The command line: global options (also from the environment) and the commands.

use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use tim_core::{BaseUrl, Region};

/// tim: Tencent Cloud Chat's server REST API from the command line.
///
/// Import and check accounts, set profiles, tag users and set their attributes (one by one or
/// in bulk from JSON Lines files), push a message to everyone or to a segment, call any
/// endpoint (`tim call`), make and check UserSigs, and run a local emulator.
/// Nothing tim prints contains the secret key or a UserSig, at any verbosity.
///
/// Exit codes: 0 success; 1 the API answered an error (the answer is still printed);
/// 2 bad usage or input refused before sending; 3 transport or decoding failure;
/// 4 a bulk job finished with failed items; 130 a bulk job stopped on Ctrl-C or SIGTERM (rerun
/// it with the same --checkpoint to resume).
#[derive(Debug, Parser)]
#[command(name = "tim", version, propagate_version = true, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: Global,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Options accepted before or after any command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options (also from the environment)")]
pub(crate) struct Global {
    /// The app's SDKAppID.
    #[arg(long, env = "TIM_SDKAPPID", global = true, value_name = "ID")]
    pub(crate) sdkappid: Option<u64>,
    /// The app's secret key (prefer the environment variable: command lines are visible to
    /// other users of the machine).
    #[arg(
        long,
        env = "TIM_SECRET_KEY",
        global = true,
        hide_env_values = true,
        value_name = "KEY"
    )]
    pub(crate) key: Option<String>,
    /// The admin account the calls are made as (for `usersig`: the account the UserSig is for).
    #[arg(
        long,
        env = "TIM_IDENTIFIER",
        global = true,
        default_value = "administrator",
        value_name = "ID"
    )]
    pub(crate) identifier: String,
    /// A ready-made admin UserSig, instead of the key.
    #[arg(
        long,
        env = "TIM_USERSIG",
        global = true,
        hide_env_values = true,
        value_name = "SIG"
    )]
    pub(crate) usersig: Option<String>,
    /// The app's data-centre region: china, singapore, seoul, frankfurt, mumbai,
    /// silicon-valley, jakarta or tokyo.
    #[arg(
        long,
        env = "TIM_REGION",
        global = true,
        default_value = "china",
        value_name = "REGION"
    )]
    pub(crate) region: Region,
    /// A base URL instead of the region's host, e.g. a local emulator (plain http only for
    /// loopback hosts).
    #[arg(long, env = "TIM_ENDPOINT", global = true, value_name = "URL")]
    pub(crate) endpoint: Option<BaseUrl>,
    /// The HTTP client library to use.
    #[arg(long, env = "TIM_TRANSPORT", global = true, value_enum, default_value_t = TransportKind::Reqwest)]
    pub(crate) transport: TransportKind,
    /// Share the app's rate limits with every process that uses this Redis
    /// (`redis://[:password@]host[:port][/db]`). Calls wait for Redis while it is down and fail
    /// after --timeout (30 s by default); nothing is sent unmetered.
    #[arg(
        long,
        env = "TIM_RATE_LIMIT_REDIS",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub(crate) rate_limit_redis: Option<String>,
    /// Give up on an attempt after this many seconds, and start no retry after that long
    /// (default: 10 s per attempt).
    #[arg(long, global = true, value_name = "SECS")]
    pub(crate) timeout: Option<f64>,
    /// More logging on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub(crate) verbose: u8,
    /// Only errors on stderr; no progress bar or summary.
    #[arg(short, long, global = true)]
    pub(crate) quiet: bool,
}

/// Which HTTP client library carries the calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TransportKind {
    /// reqwest (rustls).
    Reqwest,
    /// hyper 1 (rustls).
    Hyper,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make or check a UserSig (TLSSigAPIv2).
    #[command(subcommand)]
    Usersig(UsersigCmd),
    /// One call of any endpoint, with a JSON body; `--list` shows every endpoint.
    ///
    /// ENDPOINT is `<service>/<command>` (e.g. `openim/sendmsg`, `all_member_push/im_get_tag`),
    /// or a bare command when only one service has it. The body is checked against the typed
    /// request and its documented limits before sending; fields the spec does not know are sent
    /// as they are, with a warning. Prints the answer as JSON.
    #[command(arg_required_else_help = true)]
    Call(CallArgs),
    #[command(flatten)]
    Family(FamilyCmd),
    /// Run the local emulator of the API.
    #[command(subcommand)]
    Emulator(EmulatorCmd),
    /// A tour of every endpoint against an emulator started in-process.
    Demo,
}

/// `tim call`.
#[derive(Debug, Args)]
pub(crate) struct CallArgs {
    /// Print one line per endpoint (`v4/<service>/<command>`, rate, batch size, idempotent)
    /// and exit.
    #[arg(long, conflicts_with_all = ["api", "body"])]
    pub(crate) list: bool,
    /// `<service>/<command>`, or a command that only one service has.
    #[arg(required_unless_present = "list", value_name = "ENDPOINT")]
    pub(crate) api: Option<String>,
    /// The body as JSON text, `-` for standard input, or `@FILE`. Default: `{}`.
    pub(crate) body: Option<String>,
}

/// The typed commands of the API families: each needs a client.
#[derive(Debug, Subcommand)]
pub(crate) enum FamilyCmd {
    /// User tags: get, add, remove, clear.
    #[command(subcommand)]
    Tags(TagsCmd),
    /// Attribute slot names and user attributes.
    #[command(subcommand)]
    Attrs(AttrsCmd),
    /// Push a text message to users chosen by tags or attributes, or to everyone (--all).
    Push(PushArgs),
    /// Accounts: import (one, many, or a JSON Lines file in bulk), check, delete.
    #[command(subcommand)]
    Accounts(AccountsCmd),
    /// User profiles: read and set profile fields (Tag_Profile_IM_* and Tag_Profile_Custom_*).
    #[command(subcommand)]
    Profile(ProfileCmd),
    /// One-to-one messages: send one, read a conversation's history.
    #[command(subcommand)]
    Msg(MsgCmd),
}

#[derive(Debug, Subcommand)]
pub(crate) enum MsgCmd {
    /// Send a one-to-one message (sendmsg). Not repeated after a failure that may have sent it.
    Send {
        /// The sender (an imported account, or the admin).
        from: String,
        /// The recipient.
        to: String,
        /// The message text.
        #[arg(long, required_unless_present = "body", conflicts_with = "body")]
        text: Option<String>,
        /// The MsgBody as JSON (a list of elements), `-` for standard input or `@FILE`.
        #[arg(long, value_name = "JSON")]
        body: Option<String>,
        /// Keep the message for offline users this many seconds (0: online users only).
        #[arg(long, value_name = "SECS")]
        lifetime: Option<u32>,
    },
    /// A conversation's messages, newest first, as JSON Lines (admin_getroammsg, page after
    /// page).
    History {
        /// One account of the conversation.
        a: String,
        /// The other.
        b: String,
        /// From this time on (Unix seconds; default: the beginning).
        #[arg(long, value_name = "UNIX", default_value_t = 0)]
        since: i64,
        /// Up to this time (Unix seconds; default: now).
        #[arg(long, value_name = "UNIX")]
        until: Option<i64>,
        /// Messages per call.
        #[arg(long, value_name = "N", default_value_t = 100)]
        page: u32,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AccountsCmd {
    /// Import accounts (multiaccount_import; account_import for one with --nick/--face-url).
    ///
    /// With --file, one account per line: `u1`, `"u1"` or `{"UserID":"u1","Nick":"Ann",
    /// "FaceUrl":"https://..."}`; sent 100 a call at the documented rate, resumable with
    /// --checkpoint, accounts the service refuses written to --failed. Importing an account
    /// that exists updates its nickname and photo.
    Import {
        /// Accounts to import.
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        users: Vec<String>,
        /// The nickname (one account only).
        #[arg(long, value_name = "NICK", conflicts_with = "file")]
        nick: Option<String>,
        /// The profile photo URL (one account only).
        #[arg(long, value_name = "URL", conflicts_with = "file")]
        face_url: Option<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Whether accounts are imported (account_check): prints Imported / NotImported per account.
    Check {
        /// Accounts to check.
        #[arg(required_unless_present = "file")]
        users: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Delete accounts and their data in every service (account_delete).
    Delete {
        /// Accounts to delete.
        #[arg(required_unless_present = "file")]
        users: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProfileCmd {
    /// Read profile fields of up to 100 users (portrait_get).
    Get {
        /// Users to read.
        #[arg(required = true)]
        users: Vec<String>,
        /// A tag to read, e.g. Tag_Profile_IM_Nick (repeat for more).
        #[arg(long = "tag", value_name = "TAG", required = true)]
        tags: Vec<String>,
    },
    /// Set a user's profile fields (portrait_set).
    Set {
        /// The user.
        user: String,
        /// TAG=TEXT sets a string; TAG:=JSON sets a JSON value (e.g.
        /// Tag_Profile_IM_Level:=3). Tags and values are checked before sending.
        #[arg(required = true, value_name = "TAG=VALUE", value_parser = parse_profile_item)]
        items: Vec<(String, serde_json::Value)>,
    },
}

fn parse_profile_item(s: &str) -> Result<(String, serde_json::Value), String> {
    if let Some((tag, json)) = s.split_once(":=") {
        if !tag.contains('=') && !tag.is_empty() {
            let value = serde_json::from_str(json)
                .map_err(|e| format!("{tag}: the value after := is not JSON: {e}"))?;
            return Ok((tag.to_owned(), value));
        }
    }
    match s.split_once('=') {
        Some((tag, text)) if !tag.is_empty() => Ok((tag.to_owned(), text.into())),
        _ => Err(format!("expected TAG=TEXT or TAG:=JSON, got {s:?}")),
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum UsersigCmd {
    /// Print a UserSig for --identifier, signed with --key.
    Gen {
        /// Validity in seconds.
        #[arg(long, default_value_t = 180 * 86_400, value_name = "SECS")]
        expire: u64,
        /// Issue time, Unix seconds (default: now).
        #[arg(long, value_name = "UNIX")]
        time: Option<u64>,
    },
    /// Check a UserSig for --identifier and --sdkappid with --key: exit 0 and print its fields
    /// when valid now, exit 1 with the reason when not.
    Verify {
        /// The UserSig, or `-` to read it from standard input.
        sig: String,
    },
}

/// Where a bulk command's items come from and how the job runs.
#[derive(Debug, Args, Clone)]
pub(crate) struct BulkArgs {
    /// JSON Lines input, one item per line in the request item's shape, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// Write the items that failed here, in the input's own shape (so the file is a valid
    /// input to rerun), with their line numbers, codes and reasons in FILE's `.reasons.jsonl`
    /// side file.
    #[arg(long, value_name = "FILE", requires = "file")]
    pub(crate) failed: Option<PathBuf>,
    /// Write the results of a read here (JSON Lines, in input order) instead of standard
    /// output; required with --checkpoint for reads, so that a resumed job appends every
    /// result exactly once.
    #[arg(long, value_name = "FILE", requires = "file")]
    pub(crate) output: Option<PathBuf>,
    /// Keep the job's progress here: a rerun of the same command over the same input resumes
    /// where it stopped (a changed input is refused). Ctrl-C stops cleanly (exit 130).
    #[arg(long, value_name = "FILE", requires = "file")]
    pub(crate) checkpoint: Option<PathBuf>,
    /// Most calls in flight at once.
    #[arg(long, default_value_t = 8, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub(crate) concurrency: u16,
    /// Calls per second instead of the documented rate, or `off` (e.g. for an emulator
    /// without limits).
    #[arg(long, value_name = "N|off")]
    pub(crate) max_rate: Option<MaxRate>,
}

/// `--max-rate N|off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum MaxRate {
    PerSecond(u32),
    Off,
}

impl std::str::FromStr for MaxRate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(MaxRate::Off);
        }
        match s.parse::<u32>() {
            Ok(n) if n > 0 => Ok(MaxRate::PerSecond(n)),
            _ => Err(format!(
                "expected a positive number of calls per second or `off`, got {s:?}"
            )),
        }
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum TagsCmd {
    /// Read users' tags (im_get_tag).
    Get {
        /// Accounts to read.
        #[arg(required_unless_present = "file")]
        users: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Add tags to a user (im_add_tag).
    Add {
        /// The account.
        #[arg(
            required_unless_present = "file",
            requires = "tags",
            conflicts_with = "file"
        )]
        user: Option<String>,
        /// A tag to add (repeat for more); with --file each line carries its own tags.
        #[arg(long = "tag", value_name = "TAG", conflicts_with = "file")]
        tags: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Remove tags from a user (im_remove_tag).
    Remove {
        /// The account.
        #[arg(
            required_unless_present = "file",
            requires = "tags",
            conflicts_with = "file"
        )]
        user: Option<String>,
        /// A tag to remove (repeat for more); with --file each line carries its own tags.
        #[arg(long = "tag", value_name = "TAG", conflicts_with = "file")]
        tags: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Remove every tag of users (im_remove_all_tags).
    Clear {
        /// Accounts to clear.
        #[arg(required_unless_present = "file")]
        users: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttrsCmd {
    /// The app's attribute slot names.
    #[command(subcommand)]
    Names(AttrNamesCmd),
    /// Read users' attributes (im_get_attr).
    Get {
        /// Accounts to read.
        #[arg(required_unless_present = "file")]
        users: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Set a user's attributes (im_set_attr).
    Set {
        /// The account.
        #[arg(
            required_unless_present = "file",
            requires = "attrs",
            conflicts_with = "file"
        )]
        user: Option<String>,
        /// NAME=VALUE pairs; with --file each line carries its own.
        #[arg(value_name = "NAME=VALUE", value_parser = parse_pair, conflicts_with = "file")]
        attrs: Vec<(String, String)>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
    /// Delete a user's attributes (im_remove_attr).
    Remove {
        /// The account.
        #[arg(
            required_unless_present = "file",
            requires = "names",
            conflicts_with = "file"
        )]
        user: Option<String>,
        /// Attribute names to delete; with --file each line carries its own.
        #[arg(value_name = "NAME", conflicts_with = "file")]
        names: Vec<String>,
        #[command(flatten)]
        bulk: BulkArgs,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum AttrNamesCmd {
    /// Print the attribute slot names (im_get_attr_name).
    Get,
    /// Name attribute slots "0".."9" (im_set_attr_name).
    Set {
        /// SLOT=NAME pairs, e.g. 0=sex 1=city.
        #[arg(required = true, value_name = "SLOT=NAME", value_parser = parse_pair)]
        names: Vec<(String, String)>,
    },
}

/// `tim push`.
#[derive(Debug, Args)]
pub(crate) struct PushArgs {
    /// The message text.
    #[arg(long, required = true)]
    pub(crate) text: String,
    /// Push to every user of the app. Required when no condition (--tags-and, --tags-or,
    /// --attrs-and, --attrs-or) is given, so that pushing to everyone is never an accident.
    #[arg(long, conflicts_with_all = ["tags_and", "tags_or", "attrs_and", "attrs_or"])]
    pub(crate) all: bool,
    /// Only users holding all of these tags.
    #[arg(long, value_name = "TAG", num_args = 1..)]
    pub(crate) tags_and: Vec<String>,
    /// Only users holding any of these tags.
    #[arg(long, value_name = "TAG", num_args = 1..)]
    pub(crate) tags_or: Vec<String>,
    /// Only users whose attributes equal all of these NAME=VALUE pairs.
    #[arg(long, value_name = "NAME=VALUE", num_args = 1.., value_parser = parse_pair)]
    pub(crate) attrs_and: Vec<(String, String)>,
    /// Only users whose attributes equal any of these NAME=VALUE pairs.
    #[arg(long, value_name = "NAME=VALUE", num_args = 1.., value_parser = parse_pair)]
    pub(crate) attrs_or: Vec<(String, String)>,
    /// Keep the message for offline users this many seconds (0..=604800; 0 = online users only).
    #[arg(long, value_name = "SECS")]
    pub(crate) lifetime: Option<u32>,
    /// The sender shown to recipients (default: the admin).
    #[arg(long, value_name = "ACCOUNT")]
    pub(crate) from: Option<String>,
    /// The push's MsgRandom (default: a fresh random number). After a failure that may have
    /// pushed (a lost connection, a timeout), tim prints the command that repeats the push with
    /// the same MsgRandom, which Tencent treats as the same push task.
    #[arg(long, value_name = "N")]
    pub(crate) msg_random: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum EmulatorCmd {
    /// Serve the emulator until Ctrl-C (SDKAppID and key from the global options).
    ///
    /// The app it answers to comes from the global options: --sdkappid (TIM_SDKAPPID, default
    /// 1400000000), --key (TIM_SECRET_KEY, default the well-known key
    /// tim-emulator-well-known-key-not-a-secret, printed in the banner; a key you pass is never
    /// printed) and --identifier (TIM_IDENTIFIER, the admin account unless --admin is given).
    Serve(ServeArgs),
}

/// `tim emulator serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub(crate) port: u16,
    /// An admin account (repeat for more; default: the global --identifier).
    #[arg(long = "admin", value_name = "ID")]
    pub(crate) admins: Vec<String>,
    /// Turn the documented rate limits off: 100 calls a second per endpoint (60007) and the
    /// daily push quota (90047). Pushes stay more than 1 s apart unless --no-push-spacing.
    #[arg(long)]
    pub(crate) no_rate_limit: bool,
    /// Accept pushes less than 1 s apart (the real service answers 90024).
    #[arg(long)]
    pub(crate) no_push_spacing: bool,
    /// Pushes allowed per day (Beijing time), unless --no-rate-limit.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub(crate) daily_push_quota: u32,
    /// Keep state in this file across restarts.
    #[arg(long, value_name = "FILE")]
    pub(crate) state: Option<PathBuf>,
    /// Inject faults: KIND=RATE, RATE a fraction in 0..=1 or a percentage (repeat for more).
    /// KIND: internal-error (91000, not applied), bad-gateway (502 HTML), drop-after-apply
    /// (applied, connection dropped), delay, truncated-body (applied), non-json,
    /// rate-limited (60007) or usersig-expired (70001).
    #[arg(long = "fault", value_name = "KIND=RATE")]
    pub(crate) faults: Vec<String>,
    /// Delay every answer by this many milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub(crate) latency_ms: u64,
    /// Refuse (90001) request bodies with fields the API does not define or set to null,
    /// naming them, instead of ignoring them as the real service does: catches typos.
    #[arg(long)]
    pub(crate) strict: bool,
}

fn parse_pair(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_options_go_before_or_after_the_command() {
        let a = Cli::try_parse_from(["tim", "--sdkappid", "1", "tags", "get", "u1"]).unwrap();
        let b = Cli::try_parse_from(["tim", "tags", "get", "u1", "--sdkappid", "1"]).unwrap();
        assert_eq!(a.global.sdkappid, Some(1));
        assert_eq!(b.global.sdkappid, Some(1));
    }

    #[test]
    fn push_to_everyone_conflicts_with_a_condition() {
        let push = |extra: &[&str]| {
            let mut argv = vec!["tim", "push", "--text", "hi"];
            argv.extend_from_slice(extra);
            Cli::try_parse_from(argv)
        };
        for condition in [
            ["--tags-and", "vip"],
            ["--tags-or", "vip"],
            ["--attrs-and", "city=SZ"],
            ["--attrs-or", "city=SZ"],
        ] {
            assert!(push(&condition).is_ok());
            let mut both = vec!["--all"];
            both.extend_from_slice(&condition);
            let err = push(&both).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
            assert_eq!(err.exit_code(), 2);
        }
        assert!(push(&["--all"]).is_ok());
        // No condition and no --all parses; `tim push` refuses it before building a request.
        assert!(push(&[]).is_ok());
    }

    #[test]
    fn max_rate_parses() {
        assert_eq!("off".parse::<MaxRate>(), Ok(MaxRate::Off));
        assert_eq!("50".parse::<MaxRate>(), Ok(MaxRate::PerSecond(50)));
        assert!("0".parse::<MaxRate>().is_err());
    }
}
