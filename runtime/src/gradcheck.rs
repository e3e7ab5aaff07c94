//! Finite-difference gradient check for users.
