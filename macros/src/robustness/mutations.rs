//! Mechanical edits of source, of the kind half-typed code is made of: a prefix, a token
//! deleted, duplicated or swapped with its neighbour, a word or an operator replaced by another.
//! Every edit is deterministic, so a failure reproduces on every run.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};

/// A token stream flattened to its leaves, so that edits can break its delimiter structure:
/// identifiers, literals, punctuation, and each side of a delimiter as a leaf of its own.
#[derive(Clone)]
pub struct Leaf {
    text: String,
    /// Punctuation that is part of a longer operator (`-` of `->`), or the `'` of a lifetime.
    joint: bool,
    kind: Kind,
}

/// What a leaf may be replaced with and still leave code that mostly parses.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Identifiers and keywords.
    Word,
    Literal,
    /// A one-character operator on its own, not part of `->`, `::`, `+=` or a lifetime.
    Operator,
    /// Delimiters and the parts of longer punctuation.
    Structure,
}

impl Leaf {
    fn new(text: &str, joint: bool, kind: Kind) -> Leaf {
        Leaf {
            text: text.to_string(),
            joint,
            kind,
        }
    }
}

pub fn leaves(tokens: TokenStream) -> Vec<Leaf> {
    let mut out = Vec::new();
    flatten_into(tokens, &mut out);
    out
}

fn flatten_into(tokens: TokenStream, out: &mut Vec<Leaf>) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    // Invisible groups only come from other macros, never from source text.
                    Delimiter::None => ("", ""),
                };
                out.push(Leaf::new(open, false, Kind::Structure));
                flatten_into(group.stream(), out);
                out.push(Leaf::new(close, false, Kind::Structure));
            }
            TokenTree::Punct(punct) => {
                let joint = punct.spacing() == Spacing::Joint;
                let follows_joint = out.last().is_some_and(|previous| previous.joint);
                let kind = if !joint && !follows_joint && OPERATORS.contains(&punct.as_char()) {
                    Kind::Operator
                } else {
                    Kind::Structure
                };
                out.push(Leaf::new(&punct.as_char().to_string(), joint, kind));
            }
            TokenTree::Ident(ident) => out.push(Leaf::new(&ident.to_string(), false, Kind::Word)),
            TokenTree::Literal(literal) => {
                out.push(Leaf::new(&literal.to_string(), false, Kind::Literal));
            }
        }
    }
}

/// Source text for `leaves`; whether it still tokenizes is for the caller to find out.
pub fn source_text(leaves: &[Leaf]) -> String {
    let mut text = String::new();
    for leaf in leaves {
        text += &leaf.text;
        if !leaf.joint {
            text.push(' ');
        }
    }
    text
}

/// Every variant of `leaves` with exactly one token deleted, duplicated, or swapped with the next.
pub fn single_edits(leaves: &[Leaf]) -> impl Iterator<Item = Vec<Leaf>> + '_ {
    let n = leaves.len();
    (0..n)
        .map(|i| with_deleted(leaves, i))
        .chain((0..n).map(|i| with_duplicated(leaves, i)))
        .chain((0..n.saturating_sub(1)).map(|i| with_swapped_with_next(leaves, i)))
}

fn with_deleted(leaves: &[Leaf], at: usize) -> Vec<Leaf> {
    let mut out = leaves.to_vec();
    out.remove(at);
    out
}

fn with_duplicated(leaves: &[Leaf], at: usize) -> Vec<Leaf> {
    let mut out = leaves.to_vec();
    out.insert(at, leaves[at].clone());
    out
}

fn with_swapped_with_next(leaves: &[Leaf], at: usize) -> Vec<Leaf> {
    let mut out = leaves.to_vec();
    out.swap(at, at + 1);
    out
}

/// Between two and five random edits, each a deletion, duplication, swap, insertion or
/// replacement; inserted tokens come from the sample itself or from `SPLICED`. Most of these
/// no longer parse, which tests the path for code that is not a function yet.
pub fn random_edits(leaves: &[Leaf], rng: &mut SplitMix64) -> Vec<Leaf> {
    let mut out = leaves.to_vec();
    for _ in 0..2 + rng.below(4) {
        if out.len() < 2 {
            break;
        }
        let at = rng.below(out.len() - 1);
        match rng.below(5) {
            0 => out = with_deleted(&out, at),
            1 => out = with_duplicated(&out, at),
            2 => out = with_swapped_with_next(&out, at),
            3 => out.insert(at, spliced(leaves, rng)),
            _ => out[at] = spliced(leaves, rng),
        }
    }
    out
}

/// A token from the sample itself, or one from `SPLICED`.
fn spliced(leaves: &[Leaf], rng: &mut SplitMix64) -> Leaf {
    if rng.below(2) == 0 {
        leaves[rng.below(leaves.len())].clone()
    } else {
        Leaf::new(rng.pick(SPLICED), false, Kind::Structure)
    }
}

/// One to three words, literals or operators replaced by others of their kind, from the sample
/// itself or from the lists below. Most of these still parse as functions, so they reach the
/// stages after parsing with types, names and operators those stages did not expect.
pub fn random_substitutions(leaves: &[Leaf], rng: &mut SplitMix64) -> Vec<Leaf> {
    let mut out = leaves.to_vec();
    let replaceable: Vec<usize> = (0..leaves.len())
        .filter(|&i| leaves[i].kind != Kind::Structure)
        .collect();
    if replaceable.is_empty() {
        return out;
    }
    for _ in 0..1 + rng.below(3) {
        let at = replaceable[rng.below(replaceable.len())];
        let kind = leaves[at].kind;
        let text = if rng.below(2) == 0 {
            let same_kind: Vec<&Leaf> = leaves.iter().filter(|l| l.kind == kind).collect();
            same_kind[rng.below(same_kind.len())].text.clone()
        } else {
            match kind {
                Kind::Word => rng.pick(WORDS).to_string(),
                Kind::Literal => rng.pick(LITERALS).to_string(),
                _ => rng.pick(OPERATORS).to_string(),
            }
        };
        out[at] = Leaf::new(&text, false, kind);
    }
    out
}

/// Tokens worth splicing in anywhere: the ones that change what a piece of code means.
const SPLICED: &[&str] = &[
    "self", "_", "..", "?", "&", "*", "mut", "ref", "let", "return", "break", "continue", "move",
    "|", "=", ";", ",", ":", "::", "'a", "#", "!", "x", "1.0", "0", "as", "f64",
];

/// Words that mean something to the stages after parsing: float and integer types, receivers,
/// the methods and functions that have derivatives, and keywords.
const WORDS: &[&str] = &[
    "x",
    "y",
    "f64",
    "f32",
    "usize",
    "i32",
    "u8",
    "bool",
    "Self",
    "self",
    "sin",
    "exp",
    "sqrt",
    "powi",
    "max",
    "iter",
    "map",
    "sum",
    "zip",
    "clone",
    "len",
    "into",
    "from",
    "stop_gradient",
    "Some",
    "None",
    "Box",
    "Vec",
    "vec",
    "true",
    "mut",
    "return",
    "loop",
    "_",
    "r#in",
];

const LITERALS: &[&str] = &[
    "0", "1", "2usize", "1.0", "0.5f32", "1e300", "-0.0", "\"text\"", "'c'", "b'x'", "0xff",
];

const OPERATORS: &[char] = &['+', '-', '*', '/', '%', '<', '>', '&', '|', '^', '!', '='];

/// Closes the delimiters a prefix of source left open, so it tokenizes.
pub fn balanced(prefix: &str) -> String {
    let mut open = Vec::new();
    for c in prefix.chars() {
        match c {
            '(' => open.push(')'),
            '[' => open.push(']'),
            '{' => open.push('}'),
            ')' | ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    let mut s = prefix.to_string();
    s.extend(open.into_iter().rev());
    s
}

/// SplitMix64: a tiny PRNG, so that the random mutations are the same on every run.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n`, for `n > 0`.
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}
