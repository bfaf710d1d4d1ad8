//! Converting between versions of one interface whose variants share case
//! names (`spin:postgres@4.2.0` down to 3.0 and 2.0, MySQL's 3.0 down to 2.0):
//! the cases both name pass through, the rest take a fallback.

/// `$value` (of the enum aliased `$from`) as the enum `$to`: each case in the
/// first braces carries its payload across, each in the second is a unit case;
/// with `else`, any other case becomes `$fallback`, and without it the cases
/// listed must be all of them (the compiler checks).
macro_rules! same_cases {
    ($value:expr, $from:ident => $to:ident { $($case:ident),* } { $($unit:ident),* }) => {
        match $value {
            $($from::$case(v) => $to::$case(v),)*
            $($from::$unit => $to::$unit,)*
        }
    };
    ($value:expr, $from:ident => $to:ident { $($case:ident),* } { $($unit:ident),* } else $fallback:expr) => {
        match $value {
            $($from::$case(v) => $to::$case(v),)*
            $($from::$unit => $to::$unit,)*
            _ => $fallback,
        }
    };
}
pub(crate) use same_cases;
