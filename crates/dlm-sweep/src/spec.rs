//! The parsed sweep file: what the researcher asked for, with every section
//! shaped and typed but not yet checked against the engine's configuration
//! (that happens in [`SweepSpec::plan`](crate::SweepSpec::plan)).

use std::collections::BTreeMap;

use dlm_sim::Baseline;
use serde_json::{Map, Value};

use crate::error::SweepError;
use crate::format::SpecFormat;
use crate::random::RandomSpec;
use crate::read::{
    Section, expect_object, read_baselines, read_grid, read_include, read_name, read_seeds,
    type_name,
};

/// Longest accepted sweep name, in Unicode scalar values (Rust `char`s).
pub const MAX_NAME_CHARS: usize = 200;

/// Top-level keys of a sweep file.
pub(crate) const TOP_LEVEL_KEYS: [&str; 7] = [
    "name",
    "base",
    "grid",
    "random",
    "include",
    "seeds",
    "baselines",
];

/// A sweep file after parsing: shaped and typed, not yet planned.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    pub(crate) name: String,
    pub(crate) base: Map<String, Value>,
    pub(crate) grid: Vec<GridAxis>,
    pub(crate) random: Option<RandomSpec>,
    pub(crate) include: Vec<BTreeMap<String, Value>>,
    pub(crate) seeds: Seeds,
    pub(crate) baselines: Vec<Baseline>,
    pub(crate) document: Value,
}

/// One grid axis: a dotted config path and the values it takes.
#[derive(Debug, Clone, PartialEq)]
pub struct GridAxis {
    pub path: String,
    /// Never empty.
    pub values: Vec<Value>,
}

/// The seeds every configuration of the sweep runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seeds {
    /// Seeds `0..n`, with `n >= 1`.
    Count(u64),
    /// Distinct seeds in the order given; never empty.
    List(Vec<u64>),
}

impl Seeds {
    /// Number of seeds.
    pub fn len(&self) -> u64 {
        match self {
            Self::Count(count) => *count,
            Self::List(seeds) => seeds.len() as u64,
        }
    }

    /// Always false: parsing rejects an empty seed set.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Iterates over the seeds in order.
    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map(|index| self.get(index))
    }

    /// Returns the seed at position `index`, which must be below `len()`.
    pub(crate) fn get(&self, index: u64) -> u64 {
        match self {
            Self::Count(_) => index,
            Self::List(seeds) => seeds[index as usize],
        }
    }
}

impl Default for Seeds {
    fn default() -> Self {
        Self::Count(1)
    }
}

/// Parses a sweep file in the given format.
pub fn parse_sweep(text: &str, format: SpecFormat) -> Result<SweepSpec, SweepError> {
    let document = format.decode(text)?;
    SweepSpec::from_document(document)
}

impl SweepSpec {
    /// Parses a sweep that is already decoded into JSON, as the HTTP API
    /// receives it.
    pub fn from_document(document: Value) -> Result<Self, SweepError> {
        let top = Section::root();
        let Value::Object(object) = &document else {
            let found = match &document {
                Value::Null => "nothing (an empty document)",
                other => type_name(other),
            };
            return Err(SweepError::NotATable {
                found: found.to_owned(),
            });
        };
        top.reject_unknown_keys(object, &TOP_LEVEL_KEYS)?;

        let name = read_name(object.get("name"))?;

        let base = match object.get("base") {
            None => Map::new(),
            Some(value) => expect_object(&top.child("base"), value)?.clone(),
        };

        let grid = match object.get("grid") {
            None => Vec::new(),
            Some(value) => read_grid(value)?,
        };

        let random = match object.get("random") {
            None => None,
            Some(value) => Some(RandomSpec::from_value(value)?),
        };

        let include = match object.get("include") {
            None => Vec::new(),
            Some(value) => read_include(value)?,
        };

        let seeds = match object.get("seeds") {
            None => Seeds::default(),
            Some(value) => read_seeds(value)?,
        };

        let baselines = match object.get("baselines") {
            None => Vec::new(),
            Some(value) => read_baselines(value)?,
        };

        Ok(Self {
            name,
            base,
            grid,
            random,
            include,
            seeds,
            baselines,
            document,
        })
    }

    /// The sweep's name, verbatim.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The partial base configuration, as written.
    pub fn base(&self) -> &Map<String, Value> {
        &self.base
    }

    /// The grid axes, sorted by path.
    pub fn grid(&self) -> &[GridAxis] {
        &self.grid
    }

    /// The random sampling section, if any.
    pub fn random(&self) -> Option<&RandomSpec> {
        self.random.as_ref()
    }

    /// The explicit extra points, each a map of dotted paths to values.
    pub fn include(&self) -> &[BTreeMap<String, Value>] {
        &self.include
    }

    /// The seeds each configuration runs with.
    pub fn seeds(&self) -> &Seeds {
        &self.seeds
    }

    /// The baseline kinds to add, in the order given.
    pub fn baselines(&self) -> &[Baseline] {
        &self.baselines
    }

    /// The whole sweep file as decoded JSON, for storing it with the sweep.
    pub fn document(&self) -> &Value {
        &self.document
    }
}
