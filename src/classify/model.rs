//! The trained half of classification: multinomial naive Bayes over words and word pairs,
//! combined with the taxonomy's evidence (titles, headings, keywords) into one calibrated
//! probability per type.
//!
//! Why naive Bayes written here rather than `linfa`: the model must be retrained from operator
//! corrections on top of the shipped one without the original training text, and naive Bayes'
//! sufficient statistics (per-class feature counts) simply add up; `linfa-bayes` also wants a
//! dense `ndarray` of every word and word pair of every document. The scoring is ~40 lines.
//!
//! Score of type c: `scale * evidence_share * (avg_loglik_c - max_avg_loglik)` plus the
//! taxonomy's title/heading/keyword weights; a softmax gives probabilities. `scale` is fitted to
//! held-out examples by likelihood (temperature scaling), so the probabilities mean what they say.

use rustc_hash::FxHashMap;

use serde::{Deserialize, Serialize};

use super::taxonomy::{Evidence, Taxonomy, is_verdict};

pub const FORMAT: u32 = 1;

/// Only the first this many tokens of a document are read.
const MAX_TOKENS: usize = 20_000;
/// Word evidence saturates at this many features; shorter texts count for less.
const FULL_EVIDENCE_FEATURES: f32 = 120.0;
/// A label with fewer training documents than this has its word evidence shrunk towards the
/// mean in proportion: one pathology report cannot describe pathology reports.
const FULL_CLASS_DOCUMENTS: f32 = 40.0;
/// Headings and keywords count up to this many per type.
const HEADING_CAP: usize = 4;
const KEYWORD_CAP: usize = 4;

/// The model as stored: counts and fitted weights, plus how it was made and how well it did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: u32,
    pub version: String,
    pub created_at: String,
    pub labels: Vec<String>,
    pub vocab: Vec<String>,
    /// Documents per label.
    pub class_docs: Vec<u32>,
    /// Per label, (feature index, count) for every feature seen with it.
    pub class_counts: Vec<Vec<(u32, f32)>>,
    pub weights: Weights,
    pub holdout: Holdout,
    /// Where the examples came from, for people.
    pub sources: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// Additive smoothing of feature counts.
    pub alpha: f32,
    /// Inverse temperature of the word evidence.
    pub scale: f32,
    /// Log-odds added for a matching title line.
    pub title: f32,
    /// Log-odds added per matching section heading (up to 4).
    pub heading: f32,
    /// Log-odds added per matching keyword (up to 4).
    pub keyword: f32,
    /// Log-odds added for the date label of the identifier block (`Admit Date`, `Exam Date`).
    #[serde(default)]
    pub date_label: f32,
}

/// Accuracy on examples held out of training.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Holdout {
    pub examples: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: Vec<ClassScore>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassScore {
    pub label: String,
    pub examples: usize,
    pub f1: f64,
}

/// A model ready to score: the file plus a feature index and log-probability table.
#[derive(Debug, Clone)]
pub struct Model {
    pub file: ModelFile,
    /// Feature id by a 64-bit hash of the feature: no string comparison on the hot path. Two
    /// features sharing a hash (never seen; checked at load) would share counts.
    index: FxHashMap<u64, u32>,
    /// `logp[feature * n_labels + label]`.
    logp: Vec<f32>,
    /// Mean over labels of each feature's log-probability, for explaining decisions.
    mean_logp: Vec<f32>,
}

/// What the words of one document say, before weights are applied.
#[derive(Debug, Clone)]
pub struct WordEvidence {
    /// Mean log-likelihood per known feature, per model label.
    pub avg_loglik: Vec<f32>,
    /// Known features (words and pairs) counted.
    pub n_features: usize,
    /// Words (not numbers) read, and how many of them the model has never seen.
    pub n_words: usize,
    pub n_unknown_words: usize,
    /// Known feature indices, for explaining a decision.
    pub features: Vec<u32>,
    /// How many distinct watched words (see [`Model::words`]) the text holds.
    pub n_watched: usize,
}

/// A set of words to count in a text while it is read for the model, by their hashes.
#[derive(Debug, Clone, Default)]
pub struct WatchedWords(rustc_hash::FxHashSet<u64>);

impl WatchedWords {
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        WatchedWords(words.into_iter().map(token_hash).collect())
    }
}

impl Model {
    pub fn new(file: ModelFile) -> anyhow::Result<Model> {
        anyhow::ensure!(
            file.format == FORMAT,
            "model format {} is not {FORMAT}; retrain",
            file.format
        );
        anyhow::ensure!(
            file.class_counts.len() == file.labels.len() && file.class_docs.len() == file.labels.len(),
            "model counts do not match its labels"
        );
        let n_labels = file.labels.len();
        let n_vocab = file.vocab.len();
        let mut totals = vec![0f64; n_labels];
        let mut counts = vec![0f32; n_vocab * n_labels];
        for (label, entries) in file.class_counts.iter().enumerate() {
            for &(feature, count) in entries {
                anyhow::ensure!(
                    (feature as usize) < n_vocab,
                    "model refers to feature {feature} past its vocabulary"
                );
                counts[feature as usize * n_labels + label] += count;
                totals[label] += f64::from(count);
            }
        }
        let alpha = f64::from(file.weights.alpha);
        let logp: Vec<f32> = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                let label = i % n_labels;
                ((f64::from(count) + alpha) / (totals[label] + alpha * n_vocab as f64)).ln() as f32
            })
            .collect();
        let mut index = FxHashMap::default();
        for (i, feature) in file.vocab.iter().enumerate() {
            anyhow::ensure!(
                index.insert(feature_hash(feature), i as u32).is_none(),
                "two features of the model share a hash; retrain"
            );
        }
        let mean_logp = logp
            .chunks(n_labels.max(1))
            .map(|row: &[f32]| row.iter().sum::<f32>() / n_labels as f32)
            .collect();
        Ok(Model {
            file,
            index,
            logp,
            mean_logp,
        })
    }

    pub fn labels(&self) -> &[String] {
        &self.file.labels
    }

    /// What the tokens of a text (see [`tokenize`]) say, and how many distinct `watched` words
    /// they hold.
    pub fn words(&self, tokens: &[&str], watched: &WatchedWords) -> WordEvidence {
        let mut seen_watched: Vec<u64> = Vec::new();
        let n_labels = self.file.labels.len();
        let mut sums = vec![0f32; n_labels];
        let mut features = Vec::with_capacity(tokens.len() * 2);
        let (mut n_words, mut n_unknown_words) = (0, 0);
        let mut add = |id: Option<u32>| {
            if let Some(id) = id {
                let row = &self.logp[id as usize * n_labels..(id as usize + 1) * n_labels];
                sums.iter_mut().zip(row).for_each(|(s, l)| *s += l);
                features.push(id);
            }
        };
        // Pairs are looked up by combining their words' hashes: no pair string is built.
        let mut previous: Option<u64> = None;
        for &token in tokens {
            let hash = token_hash(token);
            if watched.0.contains(&hash) && !seen_watched.contains(&hash) {
                seen_watched.push(hash);
            }
            let id = self.index.get(&hash).copied();
            if token != "#" {
                n_words += 1;
                n_unknown_words += usize::from(id.is_none());
            }
            add(id);
            if let Some(previous) = previous {
                add(self.index.get(&pair_hash(previous, hash)).copied());
            }
            previous = Some(hash);
        }
        let n_features = features.len();
        let avg_loglik = sums.iter().map(|s| s / n_features.max(1) as f32).collect();
        WordEvidence {
            avg_loglik,
            n_features,
            n_words,
            n_unknown_words,
            features,
            n_watched: seen_watched.len(),
        }
    }

    /// The features that speak most for `label` among those of a document.
    pub fn strongest(&self, words: &WordEvidence, label: usize, n: usize) -> Vec<&str> {
        let n_labels = self.file.labels.len();
        // The n best distinct features by lift, kept in a short sorted list: one pass, no sort
        // of the whole document.
        let mut best: Vec<(f32, u32)> = Vec::with_capacity(n + 1);
        for &feature in &words.features {
            if best.iter().any(|&(_, f)| f == feature) {
                continue;
            }
            let lift = self.logp[feature as usize * n_labels + label] - self.mean_logp[feature as usize];
            if lift <= 0.0 || (best.len() == n && lift <= best[n - 1].0) {
                continue;
            }
            let at = best.partition_point(|&(l, _)| l >= lift);
            best.insert(at, (lift, feature));
            best.truncate(n);
        }
        best.iter()
            .map(|&(_, f)| self.file.vocab[f as usize].as_str())
            .collect()
    }
}

/// Scores every type of the taxonomy but `unknown` (indexed like `Taxonomy::types`, `None` for
/// `unknown`), as probabilities that sum to one.
pub fn probabilities(
    taxonomy: &Taxonomy,
    model_labels: &[Option<usize>],
    class_docs: &[u32],
    words: Option<&WordEvidence>,
    evidence: &Evidence,
    weights: &Weights,
) -> Vec<Option<f32>> {
    let word_scores = word_scores(model_labels, class_docs, words, weights);
    let mut scores: Vec<Option<f32>> = taxonomy
        .types
        .iter()
        .enumerate()
        .map(|(t, doc_type)| {
            (!is_verdict(&doc_type.id)).then(|| {
                // Where the word model knows a type from few examples, its rules count for more.
                let lift = 2.0 - trust(model_labels[t], class_docs);
                let flag = |found: bool, weight: f32| if found { weight } else { 0.0 };
                word_scores[t]
                    + flag(evidence.titles[t].is_some(), weights.title)
                    + flag(evidence.date_labels[t].is_some(), weights.date_label)
                    + lift * weights.heading * evidence.headings[t].len().min(HEADING_CAP) as f32
                    + lift * weights.keyword * evidence.keywords[t].len().min(KEYWORD_CAP) as f32
            })
        })
        .collect();
    let max = scores.iter().flatten().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let total: f32 = scores.iter().flatten().map(|s| (s - max).exp()).sum();
    for score in scores.iter_mut().flatten() {
        *score = (*score - max).exp() / total;
    }
    scores
}

/// The word part of each type's score. Types the model has no label for get the median label's
/// score, so only titles, headings and keywords can speak for them; labels learnt from few
/// examples are pulled towards it. (A mean would be dragged down by labels whose vocabulary is
/// far from the text, such as laboratory tables against a narrative.)
fn word_scores(
    model_labels: &[Option<usize>],
    class_docs: &[u32],
    words: Option<&WordEvidence>,
    weights: &Weights,
) -> Vec<f32> {
    let Some(words) = words.filter(|w| w.n_features > 0) else {
        return vec![0.0; model_labels.len()];
    };
    let best = words.avg_loglik.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
    let share = (words.n_features as f32 / FULL_EVIDENCE_FEATURES).min(1.0);
    let known: Vec<Option<f32>> = model_labels
        .iter()
        .map(|label| label.map(|l| weights.scale * share * (words.avg_loglik[l] - best)))
        .collect();
    let mut present: Vec<f32> = known.iter().flatten().copied().collect();
    present.sort_by(f32::total_cmp);
    let neutral = present.get(present.len() / 2).copied().unwrap_or(0.0);
    known
        .into_iter()
        .zip(model_labels)
        .map(|(score, label)| match score {
            Some(score) => neutral + trust(*label, class_docs) * (score - neutral),
            None => neutral,
        })
        .collect()
}

/// The hash a feature is indexed by: a token's own, or for a pair ("word word") the
/// combination of its two tokens' hashes.
fn feature_hash(feature: &str) -> u64 {
    match feature.split_once(' ') {
        Some((first, second)) => pair_hash(token_hash(first), token_hash(second)),
        None => token_hash(feature),
    }
}

fn token_hash(token: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault};
    BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(token)
}

fn pair_hash(first: u64, second: u64) -> u64 {
    (first.rotate_left(26) ^ second ^ 0x9E37_79B9_7F4A_7C15).wrapping_mul(0x517C_C1B7_2722_0A95)
}

/// How far the word model can be trusted for a label (0..1), by how many examples it saw.
fn trust(label: Option<usize>, class_docs: &[u32]) -> f32 {
    label.map_or(0.0, |l| (class_docs[l] as f32 / FULL_CLASS_DOCUMENTS).min(1.0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Word,
    Number,
    Pair,
}

/// Calls `f` for every feature of `lower` (a lower-case text): each token of [`tokenize`] and
/// each adjacent pair of them.
pub fn for_each_feature(lower: &str, mut f: impl FnMut(&str, Kind)) {
    let mut words = Vec::new();
    tokenize(lower, &mut words);
    let mut pair = String::new();
    for (i, token) in words.iter().enumerate() {
        f(token, if *token == "#" { Kind::Number } else { Kind::Word });
        if let Some(previous) = i.checked_sub(1).map(|p| words[p]) {
            pair.clear();
            pair.push_str(previous);
            pair.push(' ');
            pair.push_str(token);
            f(&pair, Kind::Pair);
        }
    }
}

/// Bytes that belong to tokens: ASCII letters and digits, and every byte of a non-ASCII
/// character.
static TOKEN_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric() || b >= 0x80;
        b += 1;
    }
    table
};

/// Appends the tokens of a lower-case text to `out` (at most 20,000 in all): words of two
/// characters or more, and `#` for any token holding a digit. A token is a run of ASCII letters
/// and digits and non-ASCII characters; the scan is over bytes, so it is cheap, and token
/// boundaries fall on ASCII bytes, so they are character boundaries.
pub fn tokenize<'a>(lower: &'a str, out: &mut Vec<&'a str>) {
    let bytes = lower.as_bytes();
    let is_token_byte = |b: u8| TOKEN_BYTES[b as usize];
    let mut pos = 0;
    while out.len() < MAX_TOKENS {
        while pos < bytes.len() && !is_token_byte(bytes[pos]) {
            pos += 1;
        }
        let start = pos;
        let mut has_digit = false;
        while pos < bytes.len() && is_token_byte(bytes[pos]) {
            has_digit |= bytes[pos].is_ascii_digit();
            pos += 1;
        }
        if start == pos {
            return;
        }
        let token = &lower[start..pos];
        if has_digit {
            out.push("#");
        } else if token.len() > 4 || token.chars().nth(1).is_some() {
            out.push(token);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_words_numbers_and_pairs() {
        let mut seen = Vec::new();
        for_each_feature("blood pressure 122/78, a bp.", |f, k| {
            seen.push((f.to_string(), k))
        });
        let features: Vec<&str> = seen.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            features,
            [
                "blood",
                "pressure",
                "blood pressure",
                "#",
                "pressure #",
                "#",
                "# #",
                "bp",
                "# bp"
            ]
        );
    }
}
