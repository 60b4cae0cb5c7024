//! Unit tests of the collector phases.
