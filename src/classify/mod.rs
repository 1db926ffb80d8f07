//! Document type from text: the taxonomy's titles, headings and keywords combined with a trained
//! word model into a calibrated probability, with a short reason.
//!
//! Classification never fails: empty, foreign, one-word or enormous text all get an answer.
//! When the answer is not sure enough, or the text does not look like clinical writing at all,
//! the type is `unknown` and the document is marked for review, with the best guess in the
//! reason. This module does no I/O; models are loaded and saved by the caller.

mod model;
pub(crate) mod taxonomy;
mod train;

pub use model::{Holdout, Model, ModelFile, Weights};
pub use taxonomy::{DEFAULT_TOML as DEFAULT_TAXONOMY, DocType, OTHER, Taxonomy, UNKNOWN, is_verdict};
pub use train::{Example, TrainOptions, train};

use crate::config::ClassifyConfig;

/// The model shipped with chartscan, trained from the MTSamples transcriptions and synthetic lab
/// panels (`scripts/train-default-model`). Used until an archive has a model of its own.
pub const DEFAULT_MODEL_JSON: &str = include_str!("../../config/doctype-model.json");

/// With at least this many known words there is enough text to tell clinical writing from other
/// writing by its vocabulary, title or not.
const JUDGE_CLINICAL_AFTER_WORDS: usize = 40;

/// What the classifier says about one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// A type id of the taxonomy, `unknown` when not sure.
    pub doc_type: String,
    /// Probability (0..1) of the best-scoring type, whether or not it was accepted.
    pub confidence: f32,
    pub reason: String,
    /// The answer needs a person: not sure enough, or not clinical text.
    pub needs_review: bool,
}

/// The site's settings: thresholds that turn a probability into a decision, and the weights of
/// the evidence training cannot fit (titles and date labels are absent from training text).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub min_confidence: f32,
    pub max_unknown_word_share: f32,
    pub min_words: usize,
    pub min_clinical_words: usize,
    pub title_weight: f32,
    pub date_label_weight: f32,
}

impl Settings {
    pub fn from_config(config: &ClassifyConfig) -> Self {
        Settings {
            min_confidence: config.min_confidence,
            max_unknown_word_share: config.max_unknown_word_share,
            min_words: config.min_words,
            min_clinical_words: config.min_clinical_words,
            title_weight: config.title_weight,
            date_label_weight: config.date_label_weight,
        }
    }
}

/// A taxonomy, a model and thresholds, ready to classify.
#[derive(Debug, Clone)]
pub struct Classifier {
    pub taxonomy: Taxonomy,
    pub model: Model,
    settings: Settings,
    /// For each taxonomy type, the model's label index, if the model knows the type.
    model_labels: Vec<Option<usize>>,
    /// The taxonomy's clinical words.
    clinical_words: model::WatchedWords,
}

impl Classifier {
    pub fn new(taxonomy: Taxonomy, mut model: Model, settings: Settings) -> Classifier {
        model.file.weights.title = settings.title_weight;
        model.file.weights.date_label = settings.date_label_weight;
        let model_labels = taxonomy
            .types
            .iter()
            .map(|t| model.labels().iter().position(|l| *l == t.id))
            .collect();
        let clinical_words = model::WatchedWords::new(taxonomy.clinical_words());
        Classifier {
            taxonomy,
            model,
            settings,
            model_labels,
            clinical_words,
        }
    }

    /// The shipped model.
    pub fn default_model() -> anyhow::Result<Model> {
        let file: ModelFile = serde_json::from_str(DEFAULT_MODEL_JSON)?;
        Model::new(file)
    }

    pub fn model_version(&self) -> &str {
        &self.model.file.version
    }

    /// Model labels the taxonomy does not define (renamed or removed types): never predicted.
    pub fn orphan_labels(&self) -> Vec<&str> {
        self.model
            .labels()
            .iter()
            .filter(|l| self.taxonomy.get(l).is_none())
            .map(String::as_str)
            .collect()
    }
}

/// Whether a page opens with one of the taxonomy's title lines (for telling a document's first
/// page from a continuation).
pub fn has_title(classifier: &Classifier, page: &str) -> bool {
    classifier
        .taxonomy
        .evidence(&[page])
        .titles
        .iter()
        .any(Option::is_some)
}

/// Classifies a document from the text of its pages, in order.
pub fn document(classifier: &Classifier, pages: &[&str]) -> Classification {
    let taxonomy = &classifier.taxonomy;
    let thresholds = &classifier.settings;
    let folded = taxonomy::fold(pages);
    let mut tokens = Vec::new();
    model::tokenize(&folded, &mut tokens);
    let evidence = taxonomy.evidence_folded(pages.first().copied().unwrap_or(""), &folded, &tokens);
    let words = classifier.model.words(&tokens, &classifier.clinical_words);
    let probs = model::probabilities(
        taxonomy,
        &classifier.model_labels,
        &classifier.model.file.class_docs,
        Some(&words),
        &evidence,
        &classifier.model.file.weights,
    );
    let Some((best, confidence)) = probs
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.map(|p| (i, p)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return unknown(0.0, "the taxonomy has no types to choose from".to_string());
    };
    let best_id = &taxonomy.types[best].id;
    let has_title = evidence.titles.iter().any(Option::is_some);
    let known_words = words.n_words - words.n_unknown_words;
    if !has_title && known_words < thresholds.min_words {
        let reason = if words.n_words == 0 {
            "no text".to_string()
        } else {
            format!("too little text ({known_words} known words)")
        };
        return unknown(confidence, reason);
    }
    // No clinical document at all: `other`, where the taxonomy has it.
    let not_clinical = |reason: String| Classification {
        doc_type: if taxonomy.get(OTHER).is_some() {
            OTHER
        } else {
            UNKNOWN
        }
        .to_string(),
        ..unknown(confidence, reason)
    };
    if known_words >= JUDGE_CLINICAL_AFTER_WORDS && words.n_watched < thresholds.min_clinical_words {
        return not_clinical(format!(
            "not clinical text: {} clinical words in {} words",
            words.n_watched, words.n_words
        ));
    }
    let unknown_share = words.n_unknown_words as f32 / words.n_words.max(1) as f32;
    if !has_title && unknown_share > thresholds.max_unknown_word_share {
        return not_clinical(format!(
            "not clinical text: {:.0}% of its words are unknown to the model",
            unknown_share * 100.0
        ));
    }
    let why = explain(classifier, best, &evidence, &words);
    if confidence < thresholds.min_confidence {
        return unknown(
            confidence,
            format!(
                "best guess {best_id} ({confidence:.2}) is below {:.2}: {why}",
                thresholds.min_confidence
            ),
        );
    }
    Classification {
        doc_type: best_id.clone(),
        confidence,
        reason: why,
        needs_review: false,
    }
}

fn unknown(confidence: f32, reason: String) -> Classification {
    Classification {
        doc_type: UNKNOWN.to_string(),
        confidence,
        reason,
        needs_review: true,
    }
}

/// The rules that fired for `type_idx` and the words that weighed most.
fn explain(
    classifier: &Classifier,
    type_idx: usize,
    evidence: &taxonomy::Evidence,
    words: &model::WordEvidence,
) -> String {
    let mut parts = Vec::new();
    if let Some(title) = &evidence.titles[type_idx] {
        parts.push(format!("title \"{title}\""));
    }
    if !evidence.headings[type_idx].is_empty() {
        parts.push(format!("headings: {}", evidence.headings[type_idx].join(", ")));
    }
    if let Some(label) = &evidence.date_labels[type_idx] {
        parts.push(format!("dated \"{label}\""));
    }
    if !evidence.keywords[type_idx].is_empty() {
        parts.push(format!("phrases: {}", evidence.keywords[type_idx].join(", ")));
    }
    if let Some(label) = classifier.model_labels[type_idx] {
        let strongest = classifier.model.strongest(words, label, 4);
        if !strongest.is_empty() {
            parts.push(format!("words: {}", strongest.join(", ")));
        }
    }
    if parts.is_empty() {
        "no evidence beyond the word model".to_string()
    } else {
        parts.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn classifier() -> Classifier {
        classifier_with(Taxonomy::builtin())
    }

    fn classifier_with(taxonomy: Taxonomy) -> Classifier {
        let settings = Settings::from_config(&Config::default().classify);
        Classifier::new(taxonomy, Classifier::default_model().unwrap(), settings)
    }

    const OPERATIVE: &str = "PREOPERATIVE DIAGNOSIS: Acute appendicitis.\nPOSTOPERATIVE DIAGNOSIS: Same.\n\
        PROCEDURE: Laparoscopic appendectomy.\nANESTHESIA: General endotracheal.\n\
        DESCRIPTION OF PROCEDURE: The patient was brought to the operating room and placed supine. \
        The abdomen was prepped and draped in the usual sterile fashion. A 12 mm port was placed \
        at the umbilicus and pneumoperitoneum established. The appendix was identified, the \
        mesoappendix divided with the harmonic scalpel and the base stapled. Estimated blood loss \
        was minimal. The patient tolerated the procedure well and was taken to the recovery room.";

    #[test]
    fn an_untitled_operative_note_is_known_by_its_words_and_headings() {
        let result = document(&classifier(), &[OPERATIVE]);
        assert_eq!(result.doc_type, "operative_report", "{result:?}");
        assert!(result.confidence > 0.8 && !result.needs_review, "{result:?}");
        assert!(
            result.reason.contains("headings: preoperative diagnosis"),
            "{}",
            result.reason
        );
    }

    #[test]
    fn a_title_decides_between_look_alike_notes() {
        let body = "CHIEF COMPLAINT: Chest pain.\nHISTORY OF PRESENT ILLNESS: A 64-year-old man with \
            hypertension presents with two hours of substernal chest pressure radiating to the left arm.\n\
            PAST MEDICAL HISTORY: Hypertension, hyperlipidemia.\nMEDICATIONS: Lisinopril.\n\
            PHYSICAL EXAMINATION: Blood pressure 150/90, pulse 96. Lungs clear. Heart regular.\n\
            ASSESSMENT AND PLAN: Acute coronary syndrome is suspected; serial troponins and aspirin.";
        for (title, expected) in [
            ("HISTORY AND PHYSICAL", "history_and_physical"),
            ("EMERGENCY DEPARTMENT REPORT", "emergency_report"),
            ("CONSULTATION", "consultation"),
        ] {
            let page = format!("RIVERBEND HOSPITAL\n{title}\n{body}");
            let result = document(&classifier(), &[&page]);
            assert_eq!(result.doc_type, expected, "{title}: {result:?}");
            assert!(result.reason.contains("title"), "{}", result.reason);
        }
    }

    #[test]
    fn confidences_are_probabilities() {
        let result = document(&classifier(), &[OPERATIVE]);
        assert!((0.0..=1.0).contains(&result.confidence));
        let taxonomy = Taxonomy::builtin();
        let c = classifier();
        let folded = taxonomy::fold(&[OPERATIVE]);
        let mut tokens = Vec::new();
        model::tokenize(&folded, &mut tokens);
        let words = c.model.words(&tokens, &c.clinical_words);
        let evidence = taxonomy.evidence(&[OPERATIVE]);
        let probs = model::probabilities(
            &taxonomy,
            &c.model_labels,
            &c.model.file.class_docs,
            Some(&words),
            &evidence,
            &c.model.file.weights,
        );
        let total: f32 = probs.iter().flatten().sum();
        assert!((total - 1.0).abs() < 1e-4, "{total}");
        assert!(probs[taxonomy.index_of(UNKNOWN).unwrap()].is_none());
    }

    #[test]
    fn bad_input_gets_an_answer_never_a_panic() {
        let c = classifier();
        for (pages, expected_reason) in [
            (vec![""], "no text"),
            (vec!["   \n\t  "], "no text"),
            (vec!["Hemoglobin"], "too little text"),
            (vec!["\u{0}\u{1}\u{fffd}\u{fffd} ### ..."], "too little text"),
        ] {
            let result = document(&c, &pages);
            assert_eq!(result.doc_type, UNKNOWN, "{pages:?}");
            assert!(result.needs_review);
            assert!(
                result.reason.starts_with(expected_reason),
                "{pages:?}: {}",
                result.reason
            );
        }
        let french = "Le patient est arrivé aux urgences avec une douleur thoracique depuis deux heures. \
            Il a des antécédents d'hypertension artérielle traitée par un inhibiteur de l'enzyme de \
            conversion. L'examen clinique retrouve une tension à quinze sur neuf et un pouls régulier. \
            Nous proposons une surveillance en unité de soins intensifs cardiologiques et un dosage de \
            la troponine toutes les trois heures avant de décider de la suite de la prise en charge.";
        let brochure = "The sequencer is a state of the art composition and performance tool for the \
            professional musician. It is extremely powerful, yet amazingly simple to learn and use. Each \
            of the sequences contains thirty two simultaneous polyphonic tracks, and each track may be \
            assigned to one of sixteen channels. The ultra fast disk drive stores complex songs in \
            seconds and holds thousands of notes per disk. One or all tracks may be transposed at the \
            touch of a key, and an exclusive erase function makes editing fast.";
        for text in [french, brochure] {
            let result = document(&c, &[text]);
            assert_eq!(result.doc_type, OTHER, "{text}");
            assert!(result.needs_review, "{text}");
            assert!(
                result.reason.starts_with("not clinical text"),
                "{}",
                result.reason
            );
        }
        let long: Vec<&str> = std::iter::repeat_n(OPERATIVE, 500).collect();
        let result = document(&c, &long);
        assert_eq!(result.doc_type, "operative_report", "500 pages: {result:?}");
    }

    #[test]
    fn a_type_the_site_added_is_found_by_its_rules_alone() {
        let extra = format!(
            "{DEFAULT_TAXONOMY}\n[[type]]\nid = \"consent_form\"\nname = \"Consent form\"\nloinc = \"59284-0\"\n\
             titles = ['^(informed )?consent( form| for .*)?$']\nkeywords = [\"risks and benefits\", \"i consent\"]\n"
        );
        let c = classifier_with(Taxonomy::parse(&extra).unwrap());
        let page = "NORTHGATE MEDICAL CENTER\nINFORMED CONSENT FOR SURGERY\nThe risks and benefits of the \
            procedure, laparoscopic cholecystectomy, including bleeding, infection and injury to the bile \
            duct, have been explained to me by Dr. Reyes. I consent to the operation and to anesthesia.\n\
            Patient signature ____  Witness ____  Date ____";
        let result = document(&c, &[page]);
        assert_eq!(result.doc_type, "consent_form", "{result:?}");
    }
}
