//! Colours: the `Rgb` type, a few named colours and the viridis colour map.

/// An opaque sRGB colour, 8 bits per channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Black, `#000000`.
    pub const BLACK: Rgb = Rgb(0, 0, 0);
    /// matplotlib "gray", `#808080`.
    pub const GREY: Rgb = Rgb(128, 128, 128);
    /// matplotlib "blue", `#0000FF`.
    pub const BLUE: Rgb = Rgb(0, 0, 255);
    /// matplotlib "cyan", `#00FFFF` (pale on white: prefer it dashed and wide).
    pub const CYAN: Rgb = Rgb(0, 255, 255);
    /// matplotlib "red", `#FF0000`.
    pub const RED: Rgb = Rgb(255, 0, 0);
    /// matplotlib "pink", `#FFC0CB` (pale on white: prefer it dashed and wide).
    pub const PINK: Rgb = Rgb(255, 192, 203);
    /// matplotlib "orange", `#FFA500`.
    pub const ORANGE: Rgb = Rgb(255, 165, 0);
    /// matplotlib "green", `#008000`.
    pub const GREEN: Rgb = Rgb(0, 128, 0);
    /// matplotlib "purple", `#800080`.
    pub const PURPLE: Rgb = Rgb(128, 0, 128);
    /// matplotlib's default first colour ("tab:blue"), `#1F77B4`.
    pub const TAB_BLUE: Rgb = Rgb(31, 119, 180);
}

/// Viridis (van der Walt and Smith, matplotlib 2.0) sampled at 11 evenly spaced
/// points; linear interpolation between them stays within a few units per
/// channel of the full 256-entry table, far below what the eye resolves.
const VIRIDIS: [Rgb; 11] = [
    Rgb(0x44, 0x01, 0x54),
    Rgb(0x48, 0x25, 0x76),
    Rgb(0x41, 0x44, 0x87),
    Rgb(0x35, 0x60, 0x8D),
    Rgb(0x2A, 0x78, 0x8E),
    Rgb(0x21, 0x90, 0x8C),
    Rgb(0x22, 0xA8, 0x84),
    Rgb(0x43, 0xBF, 0x71),
    Rgb(0x7A, 0xD1, 0x51),
    Rgb(0xBB, 0xDF, 0x27),
    Rgb(0xFD, 0xE7, 0x25),
];

/// The viridis colour at `t` in `[0, 1]` (clamped; NaN maps to the low end).
///
/// Viridis is perceptually uniform and its lightness increases monotonically,
/// so it reads correctly in greyscale and for the common forms of colour blindness.
pub fn viridis(t: f64) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (f64::from(p) + f * (f64::from(q) - f64::from(p))).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// The diverging colour at `t` in `[0, 1]`: blue (`t = 0`) through near-white
/// (`t = 0.5`) to red (`t = 1`), linear in RGB between matplotlib `coolwarm`'s
/// end colours and its middle (clamped; NaN maps to the middle).
///
/// For signed quantities on a range symmetric about 0, so that 0 is white and
/// the sign reads as the hue.
pub fn diverging(t: f64) -> Rgb {
    const BLUE: Rgb = Rgb(59, 76, 192);
    const MID: Rgb = Rgb(221, 221, 221);
    const RED: Rgb = Rgb(180, 4, 38);
    let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
    let (a, b, f) = if t <= 0.5 {
        (BLUE, MID, 2.0 * t)
    } else {
        (MID, RED, 2.0 * t - 1.0)
    };
    let mix = |p: u8, q: u8| (f64::from(p) + f * (f64::from(q) - f64::from(p))).round() as u8;
    Rgb(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_ends_middle_and_clamping() {
        assert_eq!(diverging(0.0), Rgb(59, 76, 192));
        assert_eq!(diverging(0.5), Rgb(221, 221, 221));
        assert_eq!(diverging(1.0), Rgb(180, 4, 38));
        assert_eq!(diverging(-1.0), diverging(0.0));
        assert_eq!(diverging(2.0), diverging(1.0));
        assert_eq!(diverging(f64::NAN), diverging(0.5));
        // Blue dominates below the middle, red above.
        let (lo, hi) = (diverging(0.25), diverging(0.75));
        assert!(lo.2 > lo.0 && hi.0 > hi.2);
    }

    #[test]
    fn viridis_ends_and_clamping() {
        assert_eq!(viridis(0.0), Rgb(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), Rgb(0xFD, 0xE7, 0x25));
        assert_eq!(viridis(-3.0), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(viridis(0.5), Rgb(0x21, 0x90, 0x8C));
    }

    #[test]
    fn viridis_green_channel_increases() {
        // Lightness rises monotonically; the green channel is a fair proxy.
        let g: Vec<u8> = (0..=100).map(|i| viridis(f64::from(i) / 100.0).1).collect();
        assert!(g.windows(2).all(|w| w[0] <= w[1]));
    }
}
