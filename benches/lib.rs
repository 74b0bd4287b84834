//! Shared inputs for the criterion benchmarks (see `benches/`).
