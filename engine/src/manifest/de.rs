//! Serde helper for manifest values that are either a string or a table
//! (`component`, `source`, `files` items), keeping precise error messages and positions.

use std::fmt;
use std::marker::PhantomData;

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{DeserializeOwned, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A value written either as a string or as a table (optionally also as an array).
pub(crate) trait StringOrTable: Sized {
    /// The table form.
    type Table: DeserializeOwned;
    /// What the value should look like, for error messages.
    const EXPECTING: &'static str;
    /// Builds the value from its string form.
    fn from_string(s: String) -> Self;
    /// Builds the value from its table form.
    fn from_table(t: Self::Table) -> Result<Self, String>;
    /// Builds the value from an array, when that form is allowed.
    fn from_seq<'de, A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        let _ = seq;
        Err(A::Error::custom(format!("expected {}, found an array", Self::EXPECTING)))
    }
}

/// Deserialises a [`StringOrTable`] value.
pub(crate) fn string_or_table<'de, D: Deserializer<'de>, T: StringOrTable>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_any(StringOrTableVisitor(PhantomData))
}

/// Deserialises an array through serde (for [`StringOrTable::from_seq`] implementations).
pub(crate) fn seq_of<'de, A: SeqAccess<'de>, T: DeserializeOwned>(seq: A) -> Result<T, A::Error> {
    T::deserialize(SeqAccessDeserializer::new(seq))
}

struct StringOrTableVisitor<T>(PhantomData<T>);

impl<'de, T: StringOrTable> Visitor<'de> for StringOrTableVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        Ok(T::from_string(v.to_owned()))
    }

    fn visit_string<E: Error>(self, v: String) -> Result<T, E> {
        Ok(T::from_string(v))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let table = T::Table::deserialize(MapAccessDeserializer::new(map))?;
        T::from_table(table).map_err(A::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::from_seq(seq)
    }
}
