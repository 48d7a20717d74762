//! Statistics for figures and paired comparison.

pub mod bootstrap;
pub mod mcnemar;
pub mod ols;
pub mod rng;

pub use bootstrap::{paired_bootstrap, BootstrapInterval};
pub use mcnemar::mcnemar_exact;
pub use ols::{fit_line, Line};
