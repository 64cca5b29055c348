//! tim-hyper: filled in by a later issue.
