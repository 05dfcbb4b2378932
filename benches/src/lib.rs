//! Benchmarks for lmlog live in `benches/`; this library holds nothing yet.
