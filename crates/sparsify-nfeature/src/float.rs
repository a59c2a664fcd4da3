//! The two floating-point types the model runs in.

use std::fmt::Debug;
use std::ops::{Add, Div, Mul, Neg, Sub};

/// `f32` (what the paper ran) or `f64` (what the reference fixtures hold). Sealed: only these
/// two implement it.
pub trait Float:
    faer::traits::RealField
    + Copy
    + Send
    + Sync
    + Debug
    + PartialOrd
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + sealed::Sealed
    + 'static
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// The type's name as numpy spells it (`float32`, `float64`).
    const NAME: &'static str;
    /// Rounds an `f64` to this type.
    fn of(x: f64) -> Self;
    /// Widens to `f64` (exact).
    fn f64(self) -> f64;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// torch's `sign`: -1, 0 or 1 (0 at 0).
    fn sign(self) -> Self;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

macro_rules! impl_float {
    ($t:ty, $name:literal) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const NAME: &'static str = $name;
            #[inline(always)]
            fn of(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline(always)]
            fn sign(self) -> Self {
                // Two selects and a subtraction rather than branches, so loops over it
                // vectorise: 1 - 0, 0 - 1, or 0 - 0 = +0 (at +-0 and NaN).
                let pos: $t = if self > 0.0 { 1.0 } else { 0.0 };
                let neg: $t = if self < 0.0 { 1.0 } else { 0.0 };
                pos - neg
            }
        }
    };
}

impl_float!(f32, "float32");
impl_float!(f64, "float64");
