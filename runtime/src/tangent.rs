//! Gradient storage.
