//! Training: labelled texts in, a [`ModelFile`] out, with its accuracy on held-out examples.
//!
//! Examples are split per label (stratified, seeded): 20% held out for the reported accuracy,
//! and of the rest 20% for fitting the weights (heading, keyword, scale) by grid search and the
//! scale by likelihood. The counts of the final model come from every example. Retraining on top
//! of an existing model adds the new examples' counts to its counts and keeps its weights.

use std::collections::{BTreeMap, HashMap};

use anyhow::bail;

use super::model::{self, ClassScore, FORMAT, Holdout, Kind, Model, ModelFile, Weights, WordEvidence};
use super::taxonomy::{Evidence, Taxonomy, is_verdict};

/// A text with the type a person gave it.
#[derive(Debug, Clone)]
pub struct Example {
    pub text: String,
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Log-odds of a title line and of a date label (training texts carry neither, so these
    /// are configured, not fitted).
    pub title_weight: f32,
    pub date_label_weight: f32,
    pub seed: u64,
    /// Retrain on top of this model: its counts and weights are kept, the examples added.
    pub base: Option<ModelFile>,
    pub sources: Vec<String>,
}

/// Features must occur in at least this many training documents to enter the vocabulary.
const MIN_DOCUMENT_FREQUENCY: u32 = 2;
const MAX_VOCABULARY: usize = 45_000;
const ALPHA: f32 = 0.1;

pub fn train(taxonomy: &Taxonomy, examples: &[Example], options: &TrainOptions) -> anyhow::Result<ModelFile> {
    for example in examples {
        if is_verdict(&example.label) || taxonomy.get(&example.label).is_none() {
            bail!(
                "label {:?} is not a type of the taxonomy the model can learn",
                example.label
            );
        }
    }
    match &options.base {
        None => train_new(taxonomy, examples, options),
        Some(base) => train_on_top(taxonomy, base, examples, options),
    }
}

fn train_new(taxonomy: &Taxonomy, examples: &[Example], options: &TrainOptions) -> anyhow::Result<ModelFile> {
    if examples.len() < 10 {
        bail!("{} examples are too few to train a model", examples.len());
    }
    let labels: Vec<String> = examples
        .iter()
        .map(|e| e.label.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut rng = SplitMix(options.seed);
    let all: Vec<&Example> = examples.iter().collect();
    let (rest, holdout) = split(&all, 0.2, &mut rng);
    let (fit, validation) = split(&rest, 0.2, &mut rng);

    let initial = Weights {
        alpha: ALPHA,
        scale: 20.0,
        title: options.title_weight,
        heading: 0.5,
        keyword: 0.5,
        date_label: options.date_label_weight,
    };
    let fit_model = Model::new(counted(&labels, &fit, None, initial, &options.sources)?)?;
    let weights = tune(taxonomy, &fit_model, &validation, initial);

    let rest_model = Model::new(counted(&labels, &rest, None, weights, &options.sources)?)?;
    let report = evaluate(taxonomy, &rest_model, &weights, &holdout);

    let mut file = counted(&labels, &all, None, weights, &options.sources)?;
    file.holdout = report;
    Ok(file)
}

fn train_on_top(
    taxonomy: &Taxonomy,
    base: &ModelFile,
    examples: &[Example],
    options: &TrainOptions,
) -> anyhow::Result<ModelFile> {
    let mut labels = base.labels.clone();
    for example in examples {
        if !labels.contains(&example.label) {
            labels.push(example.label.clone());
        }
    }
    let weights = base.weights;
    let all: Vec<&Example> = examples.iter().collect();
    let report = if examples.len() >= 10 {
        let mut rng = SplitMix(options.seed);
        let (rest, holdout) = split(&all, 0.2, &mut rng);
        let model = Model::new(counted(&labels, &rest, Some(base), weights, &options.sources)?)?;
        evaluate(taxonomy, &model, &weights, &holdout)
    } else {
        // Too few new examples to hold any out: the base model's figures stand.
        base.holdout.clone()
    };
    let mut sources = base.sources.clone();
    sources.extend(options.sources.iter().cloned());
    let mut file = counted(&labels, &all, Some(base), weights, &sources)?;
    file.holdout = report;
    Ok(file)
}

/// A model file holding the counts of `examples` (plus those of `base`).
fn counted(
    labels: &[String],
    examples: &[&Example],
    base: Option<&ModelFile>,
    weights: Weights,
    sources: &[String],
) -> anyhow::Result<ModelFile> {
    let label_index: HashMap<&str, usize> = labels.iter().enumerate().map(|(i, l)| (l.as_str(), i)).collect();
    let mut document_frequency: HashMap<String, u32> = HashMap::new();
    let mut per_class: Vec<HashMap<String, f32>> = vec![HashMap::new(); labels.len()];
    let mut class_docs = vec![0u32; labels.len()];
    for example in examples {
        let class = label_index[example.label.as_str()];
        class_docs[class] += 1;
        let mut seen = std::collections::HashSet::new();
        model::for_each_feature(&example.text.to_lowercase(), |feature, _kind: Kind| {
            *per_class[class].entry(feature.to_string()).or_default() += 1.0;
            if seen.insert(feature.to_string()) {
                *document_frequency.entry(feature.to_string()).or_default() += 1;
            }
        });
    }
    // New examples on top of a base model are few and chosen by people: keep all their words.
    let min_df = if base.is_some() { 1 } else { MIN_DOCUMENT_FREQUENCY };
    let mut candidates: Vec<(&String, &u32)> = document_frequency
        .iter()
        .filter(|(_, df)| **df >= min_df)
        .collect();
    candidates.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    candidates.truncate(MAX_VOCABULARY);

    let mut vocab: Vec<String> = base.map(|b| b.vocab.clone()).unwrap_or_default();
    let mut feature_index: HashMap<String, u32> = vocab
        .iter()
        .enumerate()
        .map(|(i, f)| (f.clone(), i as u32))
        .collect();
    for (feature, _) in candidates {
        if !feature_index.contains_key(feature) {
            feature_index.insert(feature.clone(), vocab.len() as u32);
            vocab.push(feature.clone());
        }
    }
    let mut counts: Vec<BTreeMap<u32, f32>> = vec![BTreeMap::new(); labels.len()];
    if let Some(base) = base {
        for (base_class, label) in base.labels.iter().enumerate() {
            let class = label_index[label.as_str()];
            class_docs[class] += base.class_docs[base_class];
            for &(feature, count) in &base.class_counts[base_class] {
                *counts[class].entry(feature).or_default() += count;
            }
        }
    }
    for (class, features) in per_class.into_iter().enumerate() {
        for (feature, count) in features {
            if let Some(&id) = feature_index.get(&feature) {
                *counts[class].entry(id).or_default() += count;
            }
        }
    }
    let now = chrono::Utc::now();
    Ok(ModelFile {
        format: FORMAT,
        version: now.format("%Y%m%dT%H%M%SZ").to_string(),
        created_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        labels: labels.to_vec(),
        vocab,
        class_docs,
        class_counts: counts.into_iter().map(|c| c.into_iter().collect()).collect(),
        weights,
        holdout: Holdout::default(),
        sources: sources.to_vec(),
    })
}

/// Each example's word and rule evidence, computed once for all candidate weights.
struct Prepared {
    label: Option<usize>,
    words: WordEvidence,
    evidence: Evidence,
}

fn prepare(taxonomy: &Taxonomy, model: &Model, examples: &[&Example]) -> (Vec<Option<usize>>, Vec<Prepared>) {
    let model_labels: Vec<Option<usize>> = taxonomy
        .types
        .iter()
        .map(|t| model.labels().iter().position(|l| *l == t.id))
        .collect();
    let prepared = examples
        .iter()
        .map(|e| Prepared {
            label: taxonomy.index_of(&e.label),
            words: {
                let lower = e.text.to_lowercase();
                let mut tokens = Vec::new();
                model::tokenize(&lower, &mut tokens);
                model.words(&tokens, &model::WatchedWords::default())
            },
            evidence: taxonomy.evidence(&[e.text.as_str()]),
        })
        .collect();
    (model_labels, prepared)
}

/// (accuracy, mean negative log-likelihood) of `weights` on prepared examples.
fn measure(
    taxonomy: &Taxonomy,
    model_labels: &[Option<usize>],
    class_docs: &[u32],
    prepared: &[Prepared],
    weights: &Weights,
) -> (f64, f64) {
    let (mut correct, mut nll) = (0usize, 0f64);
    for p in prepared {
        let probs = model::probabilities(
            taxonomy,
            model_labels,
            class_docs,
            Some(&p.words),
            &p.evidence,
            weights,
        );
        let best = argmax(&probs);
        correct += usize::from(best == p.label);
        let truth = p.label.and_then(|l| probs[l]).unwrap_or(0.0);
        nll -= f64::from(truth.max(1e-6)).ln();
    }
    let n = prepared.len().max(1) as f64;
    (correct as f64 / n, nll / n)
}

/// Grid search of heading, keyword and scale weights by accuracy (then likelihood), then the
/// scale alone by likelihood.
fn tune(taxonomy: &Taxonomy, model: &Model, validation: &[&Example], initial: Weights) -> Weights {
    if validation.is_empty() {
        return initial;
    }
    let (model_labels, prepared) = prepare(taxonomy, model, validation);
    let mut best = (
        initial,
        measure(
            taxonomy,
            &model_labels,
            &model.file.class_docs,
            &prepared,
            &initial,
        ),
    );
    for heading in [0.0, 0.25, 0.5, 1.0, 1.5, 2.0] {
        for keyword in [0.0, 0.25, 0.5, 1.0, 1.5] {
            for scale in [5.0, 10.0, 20.0, 40.0, 80.0, 160.0] {
                let weights = Weights {
                    heading,
                    keyword,
                    scale,
                    ..initial
                };
                let (accuracy, nll) = measure(
                    taxonomy,
                    &model_labels,
                    &model.file.class_docs,
                    &prepared,
                    &weights,
                );
                if accuracy > best.1.0 + 1e-9 || ((accuracy - best.1.0).abs() <= 1e-9 && nll < best.1.1) {
                    best = (weights, (accuracy, nll));
                }
            }
        }
    }
    // Temperature: the scale that makes the probabilities best match the outcomes, keeping the
    // ratio of word to heading and keyword evidence the grid chose. The title weight is left as
    // configured: training texts carry almost no titles to fit it on.
    let chosen = best.0;
    let nll_at = |factor: f64| {
        let weights = Weights {
            scale: chosen.scale * factor as f32,
            heading: chosen.heading * factor as f32,
            keyword: chosen.keyword * factor as f32,
            ..chosen
        };
        (
            measure(
                taxonomy,
                &model_labels,
                &model.file.class_docs,
                &prepared,
                &weights,
            )
            .1,
            weights,
        )
    };
    let (mut lo, mut hi) = (-2.5f64, 2.5f64);
    for _ in 0..40 {
        let (a, b) = (lo + (hi - lo) / 3.0, hi - (hi - lo) / 3.0);
        if nll_at(a.exp()).0 < nll_at(b.exp()).0 {
            hi = b;
        } else {
            lo = a;
        }
    }
    nll_at(((lo + hi) / 2.0).exp()).1
}

fn evaluate(taxonomy: &Taxonomy, model: &Model, weights: &Weights, examples: &[&Example]) -> Holdout {
    let (model_labels, prepared) = prepare(taxonomy, model, examples);
    let mut per_label: BTreeMap<String, (usize, usize, usize, usize)> = BTreeMap::new(); // n, tp, fp, fn
    let mut correct = 0;
    for p in &prepared {
        let probs = model::probabilities(
            taxonomy,
            &model_labels,
            &model.file.class_docs,
            Some(&p.words),
            &p.evidence,
            weights,
        );
        let predicted = argmax(&probs)
            .map(|i| taxonomy.types[i].id.clone())
            .unwrap_or_default();
        let truth = p.label.map(|i| taxonomy.types[i].id.clone()).unwrap_or_default();
        per_label.entry(truth.clone()).or_default().0 += 1;
        if predicted == truth {
            correct += 1;
            per_label.entry(truth).or_default().1 += 1;
        } else {
            per_label.entry(predicted).or_default().2 += 1;
            per_label.entry(truth).or_default().3 += 1;
        }
    }
    let per_class: Vec<ClassScore> = per_label
        .into_iter()
        .filter(|(_, (n, ..))| *n > 0)
        .map(|(label, (n, tp, fp, fn_))| {
            let f1 = if tp == 0 {
                0.0
            } else {
                2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
            };
            ClassScore {
                label,
                examples: n,
                f1,
            }
        })
        .collect();
    let macro_f1 = per_class.iter().map(|c| c.f1).sum::<f64>() / per_class.len().max(1) as f64;
    Holdout {
        examples: prepared.len(),
        accuracy: correct as f64 / prepared.len().max(1) as f64,
        macro_f1,
        per_class,
    }
}

fn argmax(probs: &[Option<f32>]) -> Option<usize> {
    probs
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// Splits per label: about `share` of each label's examples (none of a label with one example)
/// go to the second part.
fn split<'a>(
    examples: &[&'a Example],
    share: f64,
    rng: &mut SplitMix,
) -> (Vec<&'a Example>, Vec<&'a Example>) {
    let mut by_label: BTreeMap<&str, Vec<&'a Example>> = BTreeMap::new();
    for &example in examples {
        by_label.entry(example.label.as_str()).or_default().push(example);
    }
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for (_, mut group) in by_label {
        for i in (1..group.len()).rev() {
            group.swap(i, rng.below(i + 1));
        }
        let n_second = if group.len() < 2 {
            0
        } else {
            ((group.len() as f64 * share).round() as usize).max(1)
        };
        second.extend(group.drain(..n_second));
        first.extend(group);
    }
    (first, second)
}

/// A small seeded generator, so a training run is reproducible.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts of three made-up kinds, each with its own vocabulary.
    fn examples(n_each: usize) -> Vec<Example> {
        let kinds = [
            (
                "operative_report",
                "incision sutured hemostasis retractor laparoscopic port stapled",
            ),
            (
                "radiology_report",
                "axial contrast impression opacity radiograph sagittal lesion",
            ),
            (
                "lab_report",
                "hemoglobin platelets sodium potassium creatinine specimen reference",
            ),
        ];
        let mut out = Vec::new();
        for (label, words) in kinds {
            let words: Vec<&str> = words.split(' ').collect();
            for i in 0..n_each {
                let text: Vec<&str> = (0..40).map(|j| words[(i * 7 + j * 3) % words.len()]).collect();
                out.push(Example {
                    text: format!("the patient {}", text.join(" ")),
                    label: label.to_string(),
                });
            }
        }
        out
    }

    fn options() -> TrainOptions {
        TrainOptions {
            title_weight: 4.0,
            date_label_weight: 2.5,
            seed: 1,
            base: None,
            sources: vec!["test".into()],
        }
    }

    #[test]
    fn learns_separable_kinds_and_reports_held_out_accuracy() {
        let taxonomy = Taxonomy::builtin();
        let file = train(&taxonomy, &examples(20), &options()).unwrap();
        assert_eq!(
            file.labels,
            ["lab_report", "operative_report", "radiology_report"]
        );
        assert_eq!(file.class_docs, [20, 20, 20]);
        assert_eq!(file.holdout.examples, 12, "20% of each label held out");
        assert_eq!(file.holdout.accuracy, 1.0);
        assert!(file.weights.scale > 0.0);
    }

    #[test]
    fn refuses_labels_outside_the_taxonomy_and_too_few_examples() {
        let taxonomy = Taxonomy::builtin();
        let mut bad = examples(5);
        bad[0].label = "shopping_list".into();
        assert!(train(&taxonomy, &bad, &options()).is_err());
        assert!(train(&taxonomy, &examples(2), &options()).is_err());
        for verdict in [crate::classify::UNKNOWN, crate::classify::OTHER] {
            let mut verdicts = examples(5);
            verdicts[0].label = verdict.into();
            assert!(train(&taxonomy, &verdicts, &options()).is_err(), "{verdict}");
        }
    }

    #[test]
    fn retraining_adds_to_the_base_model() {
        let taxonomy = Taxonomy::builtin();
        let base = train(&taxonomy, &examples(20), &options()).unwrap();
        let new = vec![Example {
            text: "CONSENT I agree to the zygomatic procedure".into(),
            label: "referral_letter".into(),
        }];
        let file = train(
            &taxonomy,
            &new,
            &TrainOptions {
                base: Some(base.clone()),
                ..options()
            },
        )
        .unwrap();
        assert_eq!(file.labels.len(), 4);
        assert_eq!(file.class_docs[3], 1);
        assert_eq!(&file.class_docs[..3], &base.class_docs[..]);
        assert!(
            file.vocab.contains(&"zygomatic".to_string()),
            "words of new examples are kept"
        );
        assert_eq!(file.weights, base.weights);
        assert_eq!(
            file.holdout.accuracy, base.holdout.accuracy,
            "too few new examples to measure"
        );
    }
}
