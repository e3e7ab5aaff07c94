//! What an optimizer can update.
