//! Closed forms for L1 sparsification of one feature encoding.
#![deny(missing_docs)]
