//! Writes a Rust file of random `#[differentiable]` programs with the table their
//! finite-difference check walks (see `tests/random_programs.rs`).
//!
//! ```text
//! cargo run --manifest-path tests/progen/Cargo.toml -- --seed 1 --count 500 --out FILE
//! ```
//!
//! Options: `--first I` numbers the programs from `I` (for batches of one long run),
//! `--skip I,J,..` leaves out programs by number (each program has a stream of its own, so the
//! others stay the same, except for calls to a program left out), `--statements LO-HI` and
//! `--depth D` set the size of the programs. Without `--out`, the file goes to stdout.
//!
//! A long run is best written in batches (`--first 0 --count 1000`, `--first 1000 ..`), each
//! the corpus of one test target of a scratch crate that depends on `nabla` and includes, with
//! `#[path]`, `tests/common/mod.rs` (as `common`), `tests/random_programs/check.rs` (as
//! `check`) and the batch (as `corpus`), and calls `check::run(corpus::CASES)`. A program that
//! does not compile is left out with `--skip` and the batch written again.

mod ast;
mod bounds;
mod corpus;
mod gen;
mod library;
mod print;
mod rng;
mod scope;

use std::collections::BTreeSet;
use std::process::ExitCode;

struct Options {
    seed: u64,
    count: usize,
    first: usize,
    skip: BTreeSet<usize>,
    config: gen::Config,
    out: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        seed: 1,
        count: 500,
        first: 0,
        skip: BTreeSet::new(),
        config: gen::Config {
            statements: (3, 6),
            depth: 3,
        },
        out: None,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |s: &str| s.parse::<usize>().map_err(|e| format!("{flag} {s}: {e}"));
        match flag.as_str() {
            "--seed" => o.seed = number(value()?)? as u64,
            "--count" => o.count = number(value()?)?,
            "--first" => o.first = number(value()?)?,
            "--depth" => o.depth_from(number(value()?)?)?,
            "--skip" => {
                for s in value()?.split(',').filter(|s| !s.is_empty()) {
                    o.skip.insert(number(s)?);
                }
            }
            "--statements" => {
                let v = value()?;
                let (lo, hi) = v
                    .split_once('-')
                    .ok_or(format!("--statements {v}: LO-HI"))?;
                o.config.statements = (number(lo)?, number(hi)?);
                if o.config.statements.0 > o.config.statements.1 {
                    return Err(format!("--statements {v}: LO > HI"));
                }
            }
            "--out" => o.out = Some(value()?.clone()),
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(o)
}

impl Options {
    fn depth_from(&mut self, d: usize) -> Result<(), String> {
        if (1..=6).contains(&d) {
            self.config.depth = d as u32;
            Ok(())
        } else {
            Err(format!("--depth {d}: 1 to 6"))
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut callees = library::helpers();
    let mut programs = Vec::new();
    for index in o.first..o.first + o.count {
        if o.skip.contains(&index) {
            continue;
        }
        let rng = rng::Rng::for_program(o.seed, index);
        let (program, callee) = gen::program(&format!("p{index:05}"), rng, &callees, o.config);
        programs.extend([program]);
        callees.extend(callee);
    }
    let command = format!(
        "cargo run --manifest-path tests/progen/Cargo.toml -- {}",
        args.join(" ")
    );
    let text = corpus::file(&corpus::Header { command }, &programs);
    match &o.out {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("error: {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
        None => print!("{text}"),
    }
    ExitCode::SUCCESS
}
