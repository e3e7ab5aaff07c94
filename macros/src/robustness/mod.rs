//! The macro must never panic. rust-analyzer expands it on every keystroke, so most of the input
//! it ever sees is half-typed code; a panic there shows up as a broken editor, not as the error
//! that would tell the user what is wrong.
//!
//! These tests feed both attributes every prefix of a set of sample functions, many thousands of
//! mechanical mutations of them (a token deleted, duplicated or swapped with its neighbour,
//! random combinations of such edits, and words, literals or operators replaced by others of
//! their kind), items that are not functions, and unexpected attribute arguments. Every input must expand to some tokens without panicking. Failures are collected
//! rather than stopping at the first, and each names the exact source text that panicked.

mod mutations;
mod samples;

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use proc_macro2::TokenStream;

use mutations::{
    balanced, leaves, random_edits, random_substitutions, single_edits, source_text, SplitMix64,
};
use samples::{
    long_method_chain, long_sum, nested_parentheses, ATTRIBUTE_ARGUMENTS, NOT_FUNCTIONS,
    SUPPORTED_FUNCTIONS, UNUSUAL_ITEMS,
};

use crate::{expand, Mode};

/// How many panicking inputs a failure lists; the shortest come first, as the easiest to debug.
const PANICS_SHOWN: usize = 20;

/// Random mutations of each kind made of each sample, on top of the exhaustive single edits.
/// About half of the random edits still tokenize (the rest break a delimiter and are skipped);
/// about a third of the substitutions still parse as functions.
const RANDOM_MUTATIONS_PER_SAMPLE: usize = 600;

/// The least number of distinct inputs the mutation test must feed, and how many of them must
/// still parse as functions and so reach the stages after parsing; tuning the counts above
/// must not quietly hollow the test out.
const MIN_MUTATED_INPUTS: usize = 10_000;
const MIN_MUTATED_FUNCTIONS: usize = 5_000;

fn all_samples() -> impl Iterator<Item = &'static str> {
    SUPPORTED_FUNCTIONS.iter().chain(UNUSUAL_ITEMS).copied()
}

// Feeding inputs and collecting panics.

/// One expansion that panicked, or that returned nothing, which would make the item vanish.
struct Failure {
    attribute: String,
    source: String,
    message: String,
}

/// Feeds inputs to the macro and records failures instead of stopping at the first one.
#[derive(Default)]
struct Harness {
    /// Inputs already fed, as attribute arguments (`None`: those correct code takes) and item,
    /// in normalized token text, so that mutations that agree are fed once.
    seen: HashSet<(Option<String>, String)>,
    /// How many of the inputs parse as functions, and so get past the parser.
    functions: usize,
    failures: Vec<Failure>,
}

impl Harness {
    /// Feeds `source` to both attributes with the arguments each takes in correct code.
    fn feed(&mut self, source: &str) {
        let Ok(item) = source.parse::<TokenStream>() else {
            return;
        };
        if !self.seen.insert((None, item.to_string())) {
            return;
        }
        self.count_if_function(&item);
        self.expand_checked(Mode::Differentiable, TokenStream::new(), &item, source);
        let pullback: TokenStream = "pullback".parse().expect("a path tokenizes");
        self.expand_checked(Mode::CustomGradient, pullback, &item, source);
    }

    /// Feeds `source` to both attributes, each with `arguments`.
    fn feed_with_arguments(&mut self, arguments: &str, source: &str) {
        let (Ok(attr), Ok(item)) = (
            arguments.parse::<TokenStream>(),
            source.parse::<TokenStream>(),
        ) else {
            return;
        };
        if !self.seen.insert((Some(attr.to_string()), item.to_string())) {
            return;
        }
        self.count_if_function(&item);
        for mode in [Mode::Differentiable, Mode::CustomGradient] {
            self.expand_checked(mode, attr.clone(), &item, source);
        }
    }

    fn count_if_function(&mut self, item: &TokenStream) {
        if syn::parse2::<syn::ItemFn>(item.clone()).is_ok() {
            self.functions += 1;
        }
    }

    fn expand_checked(&mut self, mode: Mode, attr: TokenStream, item: &TokenStream, source: &str) {
        let attribute = match mode {
            Mode::Differentiable => "differentiable",
            Mode::CustomGradient => "custom_gradient",
        };
        let attribute = if attr.is_empty() {
            format!("#[{attribute}]")
        } else {
            format!("#[{attribute}({attr})]")
        };
        let message = match expand_catching_panic(attr, item.clone(), mode) {
            Ok(output) if output.is_empty() => "expanded to no tokens".to_string(),
            Ok(_) => return,
            Err(message) => message,
        };
        self.failures.push(Failure {
            attribute,
            source: source.to_string(),
            message,
        });
    }

    /// Fails the test with the shortest failing inputs, if any failed.
    fn assert_no_failures(mut self) {
        if self.failures.is_empty() {
            return;
        }
        self.failures.sort_by_key(|f| f.source.len());
        let mut report = format!(
            "{} expansions of {} inputs panicked or returned nothing; the shortest:\n",
            self.failures.len(),
            self.seen.len(),
        );
        for failure in self.failures.iter().take(PANICS_SHOWN) {
            report += &format!(
                "\n{} on:\n    {}\n  {}\n",
                failure.attribute,
                failure.source.replace('\n', "\n    "),
                failure.message.replace('\n', "\n  "),
            );
        }
        panic!("{report}");
    }
}

thread_local! {
    /// Set while this thread runs the macro under `catch_unwind`.
    static EXPANDING: Cell<bool> = const { Cell::new(false) };
    /// What the panic hook saw of the last panic while `EXPANDING`: message and location.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs the macro, turning a panic into its message and source location. The panic hook is
/// process-wide, so it only takes over while this thread is expanding; other tests' panics
/// still print as usual.
fn expand_catching_panic(
    attr: TokenStream,
    item: TokenStream,
    mode: Mode,
) -> Result<TokenStream, String> {
    static RECORD_PANICS_WHILE_EXPANDING: Once = Once::new();
    RECORD_PANICS_WHILE_EXPANDING.call_once(|| {
        let print_as_usual = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if EXPANDING.get() {
                LAST_PANIC.set(Some(info.to_string()));
            } else {
                print_as_usual(info);
            }
        }));
    });
    EXPANDING.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(|| expand(attr, item, mode)));
    EXPANDING.set(false);
    result.map_err(|_| LAST_PANIC.take().unwrap_or_else(|| "panicked".to_string()))
}

// The tests.

#[test]
fn every_prefix_of_the_samples_expands_without_panicking() {
    let mut harness = Harness::default();
    for sample in all_samples() {
        let boundaries = sample
            .char_indices()
            .filter(|(_, c)| c.is_whitespace() || "(){}[];,.".contains(*c))
            .map(|(i, _)| i);
        for cut in boundaries {
            harness.feed(&balanced(&sample[..cut]));
        }
        harness.feed(sample);
    }
    harness.assert_no_failures();
}

#[test]
fn mutations_of_the_samples_expand_without_panicking() {
    let mut harness = Harness::default();
    for (index, sample) in all_samples().enumerate() {
        let original = leaves(sample.parse().expect("the samples tokenize"));
        for variant in single_edits(&original) {
            harness.feed(&source_text(&variant));
        }
        let mut rng = SplitMix64(index as u64);
        for _ in 0..RANDOM_MUTATIONS_PER_SAMPLE {
            harness.feed(&source_text(&random_edits(&original, &mut rng)));
            harness.feed(&source_text(&random_substitutions(&original, &mut rng)));
        }
    }
    let (fed, functions) = (harness.seen.len(), harness.functions);
    harness.assert_no_failures();
    assert!(
        fed >= MIN_MUTATED_INPUTS && functions >= MIN_MUTATED_FUNCTIONS,
        "only {fed} distinct mutations tokenized, {functions} parsed as functions; \
         raise RANDOM_MUTATIONS_PER_SAMPLE",
    );
}

#[test]
fn inputs_that_are_not_functions_expand_without_panicking() {
    let mut harness = Harness::default();
    for source in NOT_FUNCTIONS {
        harness.feed(source);
    }
    harness.assert_no_failures();
}

#[test]
fn unexpected_attribute_arguments_expand_without_panicking() {
    let mut harness = Harness::default();
    for arguments in ATTRIBUTE_ARGUMENTS {
        for item in SUPPORTED_FUNCTIONS.iter().chain(NOT_FUNCTIONS) {
            harness.feed_with_arguments(arguments, item);
        }
    }
    harness.assert_no_failures();
}

// Very deep expressions. A stack overflow aborts the whole test process instead of panicking,
// so each shape has a test of its own. The expansion grows its own stack; the harness, which
// also parses and prints every input, runs on one as large.

#[test]
fn deeply_nested_parentheses_expand_without_panicking() {
    on_expansion_stack(|| {
        let mut harness = Harness::default();
        harness.feed(&nested_parentheses(1_000));
        harness.assert_no_failures();
    });
}

#[test]
fn long_sums_expand_without_panicking() {
    on_expansion_stack(|| {
        let mut harness = Harness::default();
        harness.feed(&long_sum(10_000));
        harness.assert_no_failures();
    });
}

#[test]
fn long_method_chains_expand_without_panicking() {
    on_expansion_stack(|| {
        let mut harness = Harness::default();
        harness.feed(&long_method_chain(10_000));
        harness.assert_no_failures();
    });
}

/// Runs `test` on a stack as large as the expansion's own.
fn on_expansion_stack(test: impl FnOnce()) {
    stacker::grow(crate::EXPANSION_STACK, test);
}
