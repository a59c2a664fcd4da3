//! Sparsification dynamics of one feature encoding under L1 regularisation.
#![deny(missing_docs)]
