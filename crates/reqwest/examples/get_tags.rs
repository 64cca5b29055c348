//! Reads the tags of the users named on the command line.
//!
//! ```sh
//! TIM_SDKAPPID=1400000000 TIM_SECRET_KEY=... [TIM_REGION=singapore] \
//!     cargo run -p tim-reqwest --example get_tags_reqwest -- user1 user2
//! ```
//!
//! Configuration comes from the environment: `TIM_SDKAPPID`, `TIM_SECRET_KEY` (or
//! `TIM_USERSIG`), `TIM_IDENTIFIER`, `TIM_REGION`, `TIM_ENDPOINT` (e.g. a local emulator's
//! `http://127.0.0.1:PORT`). Any number of users works: they are sent 100 per call.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let accounts: Vec<String> = std::env::args().skip(1).collect();
    if accounts.is_empty() {
        eprintln!("usage: get_tags USER...");
        return ExitCode::from(2);
    }
    let client = match tim_reqwest::Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let report = client.all_member_push().get_tag_batch(accounts).await;
    for user in report.merged.iter().flat_map(|m| &m.user_tags) {
        println!("{}: {}", user.to_account, user.tags.join(", "));
    }
    for failed in &report.failed {
        eprintln!("{} users not read: {}", failed.items.len(), failed.error);
        let mut cause = std::error::Error::source(&failed.error);
        while let Some(c) = cause {
            eprintln!("  caused by: {c}");
            cause = c.source();
        }
    }
    if report.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
