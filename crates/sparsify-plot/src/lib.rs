//! Figures for sparsify: plain series in, PNG and SVG out.
#![deny(missing_docs)]
