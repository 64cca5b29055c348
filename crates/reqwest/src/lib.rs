//! tim-reqwest: filled in by a later issue.
