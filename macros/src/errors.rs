//! Collects every error of a function so the user sees them all in one build.

use proc_macro2::{Ident, Span, TokenStream, TokenTree};
use std::fmt::Display;

/// Where an error points: the first and the last token of the user's construct. rustc
/// underlines everything in between, which a single `Span` cannot express on stable Rust
/// (`Span::join` is nightly-only, so a span of a whole expression is its first token).
#[derive(Clone, Copy)]
pub struct Place {
    pub start: Span,
    pub end: Span,
}

impl Place {
    /// A place that is one token (or one delimited group).
    pub fn at(span: Span) -> Place {
        Place {
            start: span,
            end: span,
        }
    }

    pub fn range(start: Span, end: Span) -> Place {
        Place { start, end }
    }

    /// Two tokens carrying the place's ends: `syn::Error::new_spanned` turns them into an error
    /// that covers the range between them.
    fn tokens(self) -> TokenStream {
        [
            TokenTree::Ident(Ident::new("start", self.start)),
            TokenTree::Ident(Ident::new("end", self.end)),
        ]
        .into_iter()
        .collect()
    }
}

/// An error accumulator in the spirit of serde_derive's `Ctxt`: checks push errors and carry on;
/// the caller turns them into `compile_error!`s at the end.
#[derive(Default)]
pub struct Errors {
    combined: Option<syn::Error>,
}

impl Errors {
    /// Records an error at `span` with a `help:` line saying what to write instead.
    pub fn push(&mut self, span: Span, message: impl Display, help: impl Display) {
        self.push_at(Place::at(span), message, help);
    }

    /// Records an error covering `place` with a `help:` line saying what to write instead.
    pub fn push_at(&mut self, place: Place, message: impl Display, help: impl Display) {
        self.push_error(syn::Error::new_spanned(
            place.tokens(),
            format!("{message}\n\nhelp: {help}"),
        ));
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

    /// The messages recorded so far, for tests.
    #[cfg(test)]
    pub fn messages(&self) -> Vec<String> {
        self.combined
            .iter()
            .flat_map(|combined| combined.into_iter().map(|e| e.to_string()))
            .collect()
    }

    pub fn into_compile_errors(self) -> TokenStream {
        self.combined
            .map(|e| e.to_compile_error())
            .unwrap_or_default()
    }
}
