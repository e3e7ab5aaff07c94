//! Collects every error of a function so the user sees them all in one build.

use proc_macro2::{Span, TokenStream};
use std::fmt::Display;

/// An error accumulator in the spirit of serde_derive's `Ctxt`: checks push errors and carry on;
/// the caller turns them into `compile_error!`s at the end.
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error at `span` with a `help:` line saying what to write instead.
    pub fn push(&mut self, span: Span, message: impl Display, help: impl Display) {
        self.push_error(syn::Error::new(span, format!("{message}\n\nhelp: {help}")));
    }

    /// Records an error that needs no help line.
    pub fn push_plain(&mut self, span: Span, message: impl Display) {
        self.push_error(syn::Error::new(span, message));
    }

    pub fn push_error(&mut self, error: syn::Error) {
        match &mut self.combined {
            Some(combined) => combined.combine(error),
            None => self.combined = Some(error),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.combined.is_none()
    }

    pub fn into_compile_errors(self) -> TokenStream {
        self.combined
            .map(|e| e.to_compile_error())
            .unwrap_or_default()
    }
}
