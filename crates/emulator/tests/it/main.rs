//! Black-box tests of tim-emulator over real HTTP on loopback (one binary, many modules).

mod accounts;
mod auth;
mod concurrency;
mod durability;
mod endpoints;
mod faults;
mod front;
mod inspection;
mod lifecycle;
mod limits;
mod messages;
mod push;
mod robustness;
mod samples;
mod support;
