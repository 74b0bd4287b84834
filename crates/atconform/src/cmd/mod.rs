//! One module per subcommand.
pub mod sink;
pub mod emulate;
pub mod run;
pub mod report;
pub mod diff;
