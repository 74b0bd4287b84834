//! One module per subcommand.
pub mod baseline;
pub mod diff;
pub mod emulate;
pub mod fuzz;
pub mod lab;
pub mod record;
pub mod report;
pub mod run;
pub mod scenario;
pub mod sink;
