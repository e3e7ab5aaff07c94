//! The loop tape.
