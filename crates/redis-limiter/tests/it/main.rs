//! Tests of the Redis limiter against a real `redis-server` started on a free loopback port
//! (skipped, loudly, when `redis-server` is not installed).

mod server;
mod shared;
