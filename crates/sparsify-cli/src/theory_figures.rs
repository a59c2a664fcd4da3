//! Figures comparing theory and simulation (filled in later).
