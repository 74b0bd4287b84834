//! One module per subcommand.
pub mod diff;
pub mod emulate;
pub mod fuzz;
pub mod report;
pub mod run;
pub mod sink;
pub mod record;
pub mod scenario;
