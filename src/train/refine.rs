//! Trains the refinement heads: multinomial logistic regression on the classifier's pooled
//! embeddings of the project's refinement examples, with class-balanced weights (the rare
//! dispositions matter as much as keep-task), full-batch gradient descent and L2 decay. The
//! encoder is frozen, so training takes seconds after one pass of embedding.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::analysis::rewrite::{Category, Disposition};
use crate::model::refine_head::{LinearSoftmax, RefineHeads, RefineManifest};
use crate::model::Classifier;
use crate::{Error, Result};

/// One refinement example, as in `training-data/refine/*.jsonl`; a labelled classification
/// row (`label`, `form`, `kind`) also serves, its disposition following from its label and form
/// (a story is already a story; a task in the template is unwrapped; any other task is kept).
#[derive(Debug, Clone)]
pub struct RefineRow {
    pub text: String,
    pub disposition: Disposition,
    pub category: Option<Category>,
}

#[derive(Deserialize)]
struct RawRow {
    text: String,
    #[serde(default)]
    disposition: Option<Disposition>,
    #[serde(default)]
    category: Option<Category>,
    #[serde(default)]
    label: Option<crate::model::Label>,
    #[serde(default)]
    form: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

impl RawRow {
    fn into_row(self) -> Option<RefineRow> {
        use crate::model::Label;
        let disposition = match (self.disposition, self.label) {
            (Some(d), _) => d,
            (None, Some(Label::Story)) => Disposition::AlreadyStory,
            (None, Some(Label::Task)) if self.form.as_deref() == Some("template") => {
                Disposition::Unwrap
            }
            (None, Some(Label::Task)) => Disposition::KeepTask,
            (None, None) => return None,
        };
        // The classification data's task kinds that name a category unambiguously.
        let category = self.category.or(match self.kind.as_deref() {
            Some("dependency") => Some(Category::Dependency),
            Some("ci") => Some(Category::BuildCi),
            Some("refactor") => Some(Category::Refactor),
            Some("test") => Some(Category::Test),
            Some("infra" | "deploy") => Some(Category::Infra),
            Some("data" | "migration") => Some(Category::Data),
            Some("spike") => Some(Category::Spike),
            Some("docs-internal") => Some(Category::Docs),
            _ => None,
        });
        Some(RefineRow {
            text: self.text,
            disposition,
            category: category.filter(|_| disposition != Disposition::AlreadyStory),
        })
    }
}

/// Training settings.
#[derive(Debug, Clone)]
pub struct RefineTrainOptions {
    pub data: Vec<PathBuf>,
    /// Directory of the classifier the heads read (its weights' digest is recorded).
    pub classifier_dir: PathBuf,
    pub out_dir: PathBuf,
    pub epochs: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub seed: u64,
}

/// Reads refinement rows, naming the file and line of a bad one.
pub fn read_rows(path: &Path) -> Result<Vec<RefineRow>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let context = format!("{}:{}", path.display(), i + 1);
            let raw: RawRow = serde_json::from_str(l).map_err(|source| Error::Json {
                context: context.clone(),
                source,
            })?;
            raw.into_row().ok_or_else(|| {
                Error::InvalidInput(format!("{context}: needs `disposition` or `label`"))
            })
        })
        .collect()
}

/// Whether a row is held out for validation: a fixed hash of its text, so adding rows never
/// moves old ones.
fn is_valid(text: &str, seed: u64) -> bool {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("{seed}:{text}").as_bytes());
    h[0] % 100 < 15
}

/// Fits one softmax layer; rows with label `None` are skipped.
fn fit(
    x: &[Vec<f32>],
    y: &[Option<usize>],
    classes: usize,
    opts: &RefineTrainOptions,
) -> LinearSoftmax {
    let hidden = x.first().map_or(0, Vec::len);
    let rows: Vec<usize> = (0..x.len()).filter(|&i| y[i].is_some()).collect();
    let mut counts = vec![0usize; classes];
    for &i in &rows {
        counts[y[i].expect("labelled")] += 1;
    }
    // Balanced weights: each class counts as much as any other in the loss.
    let weight_of: Vec<f32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                rows.len() as f32 / (classes as f32 * c as f32)
            }
        })
        .collect();
    let mut w = vec![0f32; classes * hidden];
    let mut b = vec![0f32; classes];
    let lr = opts.learning_rate as f32;
    let decay = opts.weight_decay as f32;
    let total: f32 = rows.iter().map(|&i| weight_of[y[i].expect("y")]).sum();
    for _ in 0..opts.epochs {
        let mut gw = vec![0f32; classes * hidden];
        let mut gb = vec![0f32; classes];
        let layer = LinearSoftmax {
            weight: w.clone(),
            bias: b.clone(),
            hidden,
        };
        for &i in &rows {
            let p = layer.probabilities(&x[i]);
            let yi = y[i].expect("y");
            let sw = weight_of[yi];
            for c in 0..classes {
                let g = sw * (p[c] - if c == yi { 1.0 } else { 0.0 });
                gb[c] += g;
                let row = &mut gw[c * hidden..(c + 1) * hidden];
                for (r, v) in row.iter_mut().zip(&x[i]) {
                    *r += g * v;
                }
            }
        }
        for (wi, gi) in w.iter_mut().zip(&gw) {
            *wi -= lr * (gi / total + decay * *wi);
        }
        for (bi, gi) in b.iter_mut().zip(&gb) {
            *bi -= lr * gi / total;
        }
    }
    LinearSoftmax {
        weight: w,
        bias: b,
        hidden,
    }
}

/// Accuracy and macro-F1 of a layer on labelled rows.
fn score(layer: &LinearSoftmax, x: &[Vec<f32>], y: &[Option<usize>], classes: usize) -> (f64, f64) {
    let mut conf = vec![vec![0usize; classes]; classes];
    for (xi, yi) in x.iter().zip(y) {
        if let Some(t) = yi {
            let p = layer.probabilities(xi);
            let pred = p
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            conf[*t][pred] += 1;
        }
    }
    crate::train::metrics::accuracy_and_macro_f1(&conf)
}

/// Trains both heads on the classifier's embeddings and writes them beside it.
pub fn train_refine(
    classifier: &Classifier,
    opts: &RefineTrainOptions,
    progress: &dyn Fn(&str),
) -> Result<RefineHeads> {
    let mut rows = Vec::new();
    let mut hasher_input = Vec::new();
    for path in &opts.data {
        rows.extend(read_rows(path)?);
        hasher_input.extend(std::fs::read(path).map_err(|e| Error::io(path, e))?);
    }
    if rows.is_empty() {
        return Err(Error::InvalidInput("no refinement rows to train on".into()));
    }
    progress(&format!("embedding {} refinement rows", rows.len()));
    let texts: Vec<&str> = rows.iter().map(|r| r.text.as_str()).collect();
    let feats: Vec<Vec<f32>> = classifier
        .scores_and_features(&texts)?
        .into_iter()
        .map(|(_, f)| f)
        .collect();
    let (mut tx, mut vx, mut td, mut vd, mut tc, mut vc) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for (r, f) in rows.iter().zip(feats) {
        let d = Some(r.disposition.index());
        let c = r
            .category
            .map(|c| Category::ALL.iter().position(|x| *x == c).expect("listed"));
        if is_valid(&r.text, opts.seed) {
            vx.push(f);
            vd.push(d);
            vc.push(c);
        } else {
            tx.push(f);
            td.push(d);
            tc.push(c);
        }
    }
    progress(&format!(
        "{} training rows, {} validation rows",
        tx.len(),
        vx.len()
    ));
    let disposition = fit(&tx, &td, Disposition::ALL.len(), opts);
    let category = fit(&tx, &tc, Category::ALL.len(), opts);
    let (da, df) = score(&disposition, &vx, &vd, Disposition::ALL.len());
    let (ca, cf) = score(&category, &vx, &vc, Category::ALL.len());
    progress(&format!(
        "validation: disposition accuracy {da:.3} macro-F1 {df:.3}; category accuracy {ca:.3} macro-F1 {cf:.3}"
    ));
    use sha2::{Digest, Sha256};
    let heads = RefineHeads {
        manifest: RefineManifest {
            classifier_sha256: crate::model::refine_head::classifier_digest(&opts.classifier_dir)?,
            dispositions: Disposition::ALL.iter().map(|d| d.as_str().into()).collect(),
            categories: Category::ALL.iter().map(|c| c.as_str().into()).collect(),
            data_sha256: hex::encode(Sha256::digest(&hasher_input)),
            train_rows: tx.len(),
            valid_rows: vx.len(),
            seed: opts.seed,
            epochs: opts.epochs,
            learning_rate: opts.learning_rate,
            weight_decay: opts.weight_decay,
            metrics: serde_json::json!({
                "valid_disposition_accuracy": da, "valid_disposition_macro_f1": df,
                "valid_category_accuracy": ca, "valid_category_macro_f1": cf,
            }),
        },
        disposition,
        category,
    };
    std::fs::create_dir_all(&opts.out_dir).map_err(|e| Error::io(&opts.out_dir, e))?;
    heads.save(&opts.out_dir)?;
    Ok(heads)
}
