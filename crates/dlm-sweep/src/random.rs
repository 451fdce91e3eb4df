//! Random sampling of config parameters. Sample `i` is drawn from its own
//! ChaCha20 stream (`seed`, stream `i`), so any sample can be produced on
//! its own, in any order, without keeping the others in memory, and the
//! same `(seed, i)` always gives the same values.

use rand::distr::{Distribution as _, Uniform};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde_json::{Map, Value};

use crate::error::SweepError;
use crate::flatten::join_path;
use crate::read::{
    Section, expect_array, expect_f64, expect_object, expect_u64, read_positive_count,
};

/// Keys of the `random` section.
const RANDOM_KEYS: [&str; 3] = ["n", "seed", "params"];

/// Keys naming a distribution; a distribution table has exactly one.
const DISTRIBUTION_KEYS: [&str; 3] = ["uniform", "log_uniform", "choice"];

/// The `random` section: `n` samples of `params`, drawn with `seed`.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomSpec {
    pub(crate) samples: u64,
    pub(crate) seed: u64,
    /// Sorted by path; never empty.
    pub(crate) params: Vec<(String, ParamDistribution)>,
}

/// The distribution one sampled config parameter is drawn from.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamDistribution {
    /// Uniform on `[low, high)`.
    Uniform { low: f64, high: f64 },
    /// `exp(u)` with `u` uniform on `[ln low, ln high)`, so every decade
    /// between the bounds is equally likely; `low > 0`.
    LogUniform { low: f64, high: f64 },
    /// One of the listed values, each equally likely.
    Choice(Vec<Value>),
}

impl RandomSpec {
    pub(crate) fn from_value(value: &Value) -> Result<Self, SweepError> {
        let section = Section::root().child("random");
        let object = expect_object(&section, value)?;
        section.reject_unknown_keys(object, &RANDOM_KEYS)?;

        let samples = match object.get("n") {
            None => {
                return Err(missing(
                    &section,
                    "n",
                    "add `n = 20`, the number of samples",
                ));
            }
            Some(value) => read_positive_count(&section.child("n"), value)?,
        };

        let seed = match object.get("seed") {
            None => {
                return Err(missing(
                    &section,
                    "seed",
                    "add `seed = 1` (any whole number; it fixes which values are drawn)",
                ));
            }
            Some(value) => expect_u64(&section.child("seed"), value)?,
        };

        let params_section = section.child("params");
        let params_value = object.get("params").ok_or_else(|| {
            missing(
                &section,
                "params",
                "add a table of dotted config paths to distributions, \
                 e.g. \"dynamics.temperature\" = { log_uniform = [0.001, 0.1] }",
            )
        })?;
        let params_object = expect_object(&params_section, params_value)?;
        if params_object.is_empty() {
            return Err(SweepError::invalid(
                params_section.path(),
                params_value,
                "list at least one parameter to sample, or remove the `random` section",
            ));
        }

        let mut params = Vec::with_capacity(params_object.len());
        collect_params(&params_section, "", params_object, &mut params)?;
        params.sort_by(|left, right| left.0.cmp(&right.0));
        if let Some(pair) = params.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            let path = &pair[0].0;
            return Err(SweepError::InvalidField {
                field: params_section.child(path).path().to_owned(),
                value: format!("`{path}`"),
                reason: "the path is given twice (once dotted, once as nested tables); keep one"
                    .to_owned(),
            });
        }

        Ok(Self {
            samples,
            seed,
            params,
        })
    }

    /// Number of samples.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The seed of the sampler.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The sampled parameters and their distributions, sorted by path.
    pub fn params(&self) -> &[(String, ParamDistribution)] {
        &self.params
    }

    /// Draws sample `index`: one value per parameter, in path order.
    pub fn sample(&self, index: u64) -> Vec<(String, Value)> {
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed);
        rng.set_stream(index);

        self.params
            .iter()
            .map(|(path, distribution)| (path.clone(), distribution.draw(&mut rng)))
            .collect()
    }
}

/// Collects the sampled parameters. A table of tables holding none of the
/// distribution keys is a nested part of a path (`dynamics = { alpha = {
/// uniform = [0, 1] } }` is the path `dynamics.alpha`), which is
/// unambiguous because no config key is named like a distribution. Any
/// other value is read as a distribution, so `{ normal = [0, 1] }` is
/// reported as an unknown distribution.
fn collect_params(
    section: &Section,
    prefix: &str,
    object: &Map<String, Value>,
    params: &mut Vec<(String, ParamDistribution)>,
) -> Result<(), SweepError> {
    for (key, value) in object {
        let path = join_path(prefix, key);
        let field = section.child(&path);
        match value {
            Value::Object(nested)
                if !nested.is_empty()
                    && nested.values().all(Value::is_object)
                    && !nested
                        .keys()
                        .any(|key| DISTRIBUTION_KEYS.contains(&key.as_str())) =>
            {
                collect_params(section, &path, nested, params)?;
            }
            distribution => {
                params.push((path, ParamDistribution::from_value(&field, distribution)?));
            }
        }
    }
    Ok(())
}

impl ParamDistribution {
    fn from_value(field: &Section, value: &Value) -> Result<Self, SweepError> {
        let object = expect_object(field, value)?;
        field.reject_unknown_keys(object, &DISTRIBUTION_KEYS)?;
        if object.len() != 1 {
            return Err(SweepError::invalid(
                field.path(),
                value,
                "give exactly one of `uniform = [low, high]`, `log_uniform = [low, high]` \
                 or `choice = [values]`",
            ));
        }

        if let Some(bounds) = object.get("uniform") {
            let (low, high) = read_bounds(&field.child("uniform"), bounds)?;
            check_sampler(&field.child("uniform"), bounds, low, high)?;
            return Ok(Self::Uniform { low, high });
        }

        if let Some(bounds) = object.get("log_uniform") {
            let (low, high) = read_bounds(&field.child("log_uniform"), bounds)?;
            if low <= 0.0 {
                return Err(SweepError::invalid(
                    field.child("log_uniform").path(),
                    bounds,
                    "the lower bound must be above 0 because the logarithm is sampled; \
                     use `uniform` for ranges that include 0",
                ));
            }
            check_sampler(&field.child("log_uniform"), bounds, low.ln(), high.ln())?;
            return Ok(Self::LogUniform { low, high });
        }

        let choice_section = field.child("choice");
        let choices = expect_array(&choice_section, &object["choice"])?;
        if choices.is_empty() {
            return Err(SweepError::invalid(
                choice_section.path(),
                &object["choice"],
                "list at least one value to choose from",
            ));
        }
        Ok(Self::Choice(choices.clone()))
    }

    fn draw(&self, rng: &mut ChaCha20Rng) -> Value {
        match self {
            Self::Uniform { low, high } => {
                let uniform = Uniform::new(*low, *high).expect("bounds accepted by check_sampler");
                Value::from(uniform.sample(rng))
            }
            Self::LogUniform { low, high } => {
                let uniform =
                    Uniform::new(low.ln(), high.ln()).expect("bounds accepted by check_sampler");
                // exp(ln x) can land one ulp outside [low, high].
                let drawn = uniform.sample(rng).exp().clamp(*low, *high);
                Value::from(drawn)
            }
            Self::Choice(choices) => {
                let index = rng.random_range(0..choices.len());
                choices[index].clone()
            }
        }
    }
}

/// Reads `[low, high]` with finite `low < high`.
fn read_bounds(field: &Section, value: &Value) -> Result<(f64, f64), SweepError> {
    let items = expect_array(field, value)?;
    if items.len() != 2 {
        return Err(SweepError::invalid(
            field.path(),
            value,
            format!(
                "expected two bounds [low, high], found a list of {}",
                items.len()
            ),
        ));
    }

    let low = expect_f64(&field.item(0), &items[0])?;
    let high = expect_f64(&field.item(1), &items[1])?;
    if low >= high {
        return Err(SweepError::invalid(
            field.path(),
            value,
            "the lower bound must be below the upper bound; \
             put a fixed value in `base` or a one-value grid axis instead",
        ));
    }
    Ok((low, high))
}

fn missing(section: &Section, key: &str, fix: &str) -> SweepError {
    SweepError::MissingField {
        field: section.child(key).path().to_owned(),
        fix: fix.to_owned(),
    }
}

/// Checks that a uniform sampler on `[low, high)` can be built, which fails
/// when the width overflows or when two log bounds round to the same value.
fn check_sampler(field: &Section, bounds: &Value, low: f64, high: f64) -> Result<(), SweepError> {
    match Uniform::new(low, high) {
        Ok(_) => Ok(()),
        Err(error) => Err(SweepError::invalid(
            field.path(),
            bounds,
            format!("the bounds cannot be sampled ({error}); use bounds further apart"),
        )),
    }
}
