//! Capture SMTP server with provider profiles, TLS, fault injection and a query API.
#![forbid(unsafe_code)]
