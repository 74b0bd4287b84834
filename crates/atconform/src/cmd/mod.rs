//! One module per subcommand.
pub mod sink;
pub mod run;
