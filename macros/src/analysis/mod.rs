//! Analyses of the IR that run before generation, each a function of the lowered body:
//!
//! - `activity`: which variables carry gradient (varied and useful);
//! - `numbers`: which values are single numbers, as far as syntax tells;
//! - `steps`: integer steps (`idx += 1`) the reverse sweep undoes instead of saving;
//! - `buffers`: whole assignments that may change a buffer's length, and assignments that
//!   overwrite nothing;
//! - `increments`: element writes `buf[i] += v` reversed as one increment;
//! - `invariant_reads`: buffers a loop reads at one unchanging element only;
//! - `restore`: the buffers the reverse sweep restores write by write;
//! - `recompute`: what the reverse sweep computes again instead of saving;
//! - `stencils`: buffers one loop iteration reads at several indices;
//! - `fusion`: loops whose reverse iterations run fused with their forward ones;
//! - `walk`: the walkers over the IR that the analyses and the generator share.

pub mod activity;
pub mod buffers;
pub mod fusion;
pub mod increments;
pub mod invariant_reads;
pub mod numbers;
pub mod recompute;
pub mod restore;
pub mod stencils;
pub mod steps;
pub mod walk;
