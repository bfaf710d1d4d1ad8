//! A setting that is one value or a range to draw from, as Spin's
//! `--max-instance-reuse-count 1..8` and friends take it: `a..b` is half-open
//! (`1..8` never yields 8), and each new instance (or request) draws its own
//! value so instances do not all expire at once.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// One value, or a non-empty half-open range `[low, high)` sampled on use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sampled<T> {
    /// Always this value.
    Value(T),
    /// A value drawn uniformly from `low..high` (`low < high`).
    Range {
        /// The smallest value drawn.
        low: T,
        /// One past the largest value drawn.
        high: T,
    },
}

/// Values a [`Sampled`] can draw from a range.
pub trait Sample: Copy + PartialOrd {
    /// A value in `low..high`; `low < high` holds.
    fn between(low: Self, high: Self) -> Self;
}

impl Sample for usize {
    fn between(low: Self, high: Self) -> Self {
        fastrand::usize(low..high)
    }
}

impl Sample for Duration {
    fn between(low: Self, high: Self) -> Self {
        let span = (high - low).as_nanos().min(u64::MAX as u128) as u64;
        low + Duration::from_nanos(fastrand::u64(0..span))
    }
}

impl<T: Sample> Sampled<T> {
    /// The value, or a fresh draw from the range.
    pub fn sample(&self) -> T {
        match *self {
            Self::Value(v) => v,
            Self::Range { low, high } => T::between(low, high),
        }
    }

    /// The largest value [`Self::sample`] can return, or for a range its
    /// exclusive end.
    pub fn upper(&self) -> T {
        match *self {
            Self::Value(v) | Self::Range { high: v, .. } => v,
        }
    }

    /// Parses `v` or `a..b`, each side with `side`; an empty range (`a >= b`)
    /// is an error rather than a panic on first use.
    pub fn parse<E: fmt::Display>(text: &str, side: impl Fn(&str) -> Result<T, E>) -> Result<Self, String> {
        let side = |s: &str| side(s.trim()).map_err(|e| format!("{s:?}: {e}"));
        match text.split_once("..") {
            None => side(text).map(Self::Value),
            Some((low, high)) => {
                let (low, high) = (side(low)?, side(high)?);
                if low < high {
                    Ok(Self::Range { low, high })
                } else {
                    Err(format!("the range {text:?} is empty (ranges are half-open: 1..8 draws from 1 to 7)"))
                }
            }
        }
    }
}

impl<T: Sample + FromStr> FromStr for Sampled<T>
where
    T::Err: fmt::Display,
{
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Self::parse(s, str::parse)
    }
}

impl<T: fmt::Debug> fmt::Display for Sampled<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Value(v) => write!(f, "{v:?}"),
            Self::Range { low, high } => write!(f, "{low:?}..{high:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_half_open_ranges() {
        assert_eq!("16".parse::<Sampled<usize>>(), Ok(Sampled::Value(16)));
        let range: Sampled<usize> = "1..3".parse().unwrap();
        assert_eq!(range, Sampled::Range { low: 1, high: 3 });
        let drawn: std::collections::BTreeSet<usize> = (0..200).map(|_| range.sample()).collect();
        assert_eq!(drawn.into_iter().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(range.upper(), 3);
    }

    #[test]
    fn empty_or_malformed_ranges_are_errors() {
        assert!("8..8".parse::<Sampled<usize>>().unwrap_err().contains("empty"));
        assert!("9..2".parse::<Sampled<usize>>().is_err());
        assert!("x..2".parse::<Sampled<usize>>().unwrap_err().contains("\"x\""));
        assert!("".parse::<Sampled<usize>>().is_err());
    }

    #[test]
    fn durations_draw_inside_their_range() {
        let range = Sampled::Range { low: Duration::from_millis(10), high: Duration::from_millis(20) };
        for _ in 0..100 {
            let d = range.sample();
            assert!(d >= Duration::from_millis(10) && d < Duration::from_millis(20), "{d:?}");
        }
    }
}
