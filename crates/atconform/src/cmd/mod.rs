//! One module per subcommand.
pub mod sink;
