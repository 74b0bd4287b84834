//! Catalog of the SMTP AT commands, error tables and module profiles, from the manuals.
#![forbid(unsafe_code)]
