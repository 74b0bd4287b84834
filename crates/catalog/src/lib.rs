//! Catalog of the SMTP AT commands, error tables and module profiles, taken from the manuals.
//!
//! - [`commands`]: every command the SMTP flows use (000 §2.2, §3; 002), with forms, parameter
//!   kinds, ranges, maximum lengths, defaults, exact test-command responses and maximum response
//!   times, as compile-checked static data.
//! - [`errors`]: `<err>` 651–682 (000 §5) and `<protocol_error>` 421–554 (000 §6), and the
//!   table-order mapping between them (666 ↔ 421 … 682 ↔ 554); [`explain`] says what the codes
//!   in a line of module output mean.
//! - [`checksum`]: the `+QFUPL` checksum, E12's algorithm and the other one a module may use.
//! - [`mod@profile`]: module profiles as TOML data with `base` inheritance, so a new firmware
//!   revision is a file, not code.
//!
//! Where the manuals contradict themselves the catalog follows `ERRATA.md` (cited as `E<n>`).
//!
//! ```
//! use at_catalog::{command, err_for_protocol, profile, Form, ParamKind};
//!
//! let body = command("+QSMTPBODY").unwrap();
//! assert!(body.supports(Form::Write));
//! assert_eq!(body.param("body_length").unwrap().kind, ParamKind::Int { min: 1, max: 10240 });
//! assert_eq!(err_for_protocol(535), Some(677)); // authentication failed
//!
//! let ag35 = profile("ag35").unwrap();
//! let cfg = command("+QSMTPCFG").unwrap();
//! assert_eq!(ag35.test_response(cfg).len(), 6); // no "bodyoriginal" in 001
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checksum;
pub mod commands;
pub mod errata;
pub mod errors;
pub mod explain;
pub mod limits;
pub mod profile;

pub use commands::{
    COMMANDS, Command, Dialect, Form, MAX_STRING, MULTITECH_PARAMS, MaxResponse, Param, ParamKind,
    Setting, command, multitech_param,
};
pub use errata::{
    CitationError, DOCUMENTS, ErrataEntry, check_citation, errata, errata_entry, is_errata_id,
};
pub use errors::{
    ERR_CODES, ErrorCode, PROTOCOL_ERRORS, err, err_code, err_for_protocol, protocol_error,
    protocol_for_err,
};
pub use limits::{ResponseLimit, line_limit, response_limit};
pub use profile::{
    LeaveDataMode, Limits, MultiTechErrors, MultiTechSettings, PROFILE_NAMES, Profile,
    ProfileError, Reset, Setup, SetupCommand, profile, profiles,
};
