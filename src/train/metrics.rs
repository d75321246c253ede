//! Classification metrics: accuracy, macro-F1, per-class precision/recall/F1, confusion matrix,
//! and the same broken down by item form.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::Label;

/// Precision, recall and F1 of one class.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct ClassMetrics {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Gold items of this class.
    pub support: usize,
}

/// Metrics over a set of predictions.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Metrics {
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    pub per_class: BTreeMap<String, ClassMetrics>,
    /// `confusion[gold][predicted]` counts.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// The same metrics (without further breakdown) per `form`, when rows have one.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub by_form: BTreeMap<String, Metrics>,
}

impl Metrics {
    /// Computes metrics from gold and predicted labels, with an optional form per row.
    pub fn compute(gold: &[Label], pred: &[Label], forms: &[Option<String>]) -> Self {
        assert_eq!(gold.len(), pred.len(), "one prediction per gold label");
        let mut m = Self::plain(gold, pred);
        let mut groups: BTreeMap<String, (Vec<Label>, Vec<Label>)> = BTreeMap::new();
        for (i, form) in forms.iter().enumerate() {
            if let Some(f) = form {
                let g = groups.entry(f.clone()).or_default();
                g.0.push(gold[i]);
                g.1.push(pred[i]);
            }
        }
        m.by_form = groups
            .into_iter()
            .map(|(f, (g, p))| (f, Self::plain(&g, &p)))
            .collect();
        m
    }

    fn plain(gold: &[Label], pred: &[Label]) -> Self {
        let n = gold.len();
        let mut confusion: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for g in Label::ALL {
            let row = confusion.entry(g.to_string()).or_default();
            for p in Label::ALL {
                row.insert(p.to_string(), 0);
            }
        }
        let mut correct = 0;
        for (g, p) in gold.iter().zip(pred) {
            *confusion
                .get_mut(g.as_str())
                .and_then(|r| r.get_mut(p.as_str()))
                .expect("both labels present") += 1;
            correct += usize::from(g == p);
        }
        let mut per_class = BTreeMap::new();
        for c in Label::ALL {
            let tp = confusion[c.as_str()][c.as_str()] as f64;
            let support = confusion[c.as_str()].values().sum::<usize>();
            let predicted: usize = Label::ALL
                .iter()
                .map(|g| confusion[g.as_str()][c.as_str()])
                .sum();
            let precision = ratio(tp, predicted as f64);
            let recall = ratio(tp, support as f64);
            let f1 = ratio(2.0 * precision * recall, precision + recall);
            per_class.insert(
                c.to_string(),
                ClassMetrics {
                    precision,
                    recall,
                    f1,
                    support,
                },
            );
        }
        let macro_f1 = per_class.values().map(|c| c.f1).sum::<f64>() / per_class.len() as f64;
        Self {
            n,
            accuracy: ratio(correct as f64, n as f64),
            macro_f1,
            per_class,
            confusion,
            by_form: BTreeMap::new(),
        }
    }

    /// A readable multi-line report.
    pub fn report(&self) -> String {
        let mut s = format!(
            "items: {}\naccuracy: {:.4}\nmacro-F1: {:.4}\n\nclass   precision  recall  f1      support\n",
            self.n, self.accuracy, self.macro_f1
        );
        for (c, m) in &self.per_class {
            s += &format!(
                "{c:<7} {:<10.4} {:<7.4} {:<7.4} {}\n",
                m.precision, m.recall, m.f1, m.support
            );
        }
        s += "\nconfusion (rows gold, columns predicted)\n        story  task\n";
        for (g, row) in &self.confusion {
            s += &format!("{g:<7} {:<6} {}\n", row["story"], row["task"]);
        }
        if !self.by_form.is_empty() {
            s += "\nby form\n";
            for (f, m) in &self.by_form {
                s += &format!(
                    "{f:<9} n={:<5} accuracy={:.4} macro-F1={:.4}\n",
                    m.n, m.accuracy, m.macro_f1
                );
            }
        }
        s
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::*;

    #[test]
    fn known_confusion_gives_known_scores() {
        let gold = [Story, Story, Story, Task, Task];
        let pred = [Story, Story, Task, Task, Story];
        let forms = vec![Some("free".to_string()); 5];
        let m = Metrics::compute(&gold, &pred, &forms);
        assert_eq!(m.n, 5);
        assert!((m.accuracy - 0.6).abs() < 1e-9);
        let s = m.per_class["story"];
        assert!((s.precision - 2.0 / 3.0).abs() < 1e-9);
        assert!((s.recall - 2.0 / 3.0).abs() < 1e-9);
        let t = m.per_class["task"];
        assert!((t.f1 - 0.5).abs() < 1e-9);
        assert!((m.macro_f1 - (2.0 / 3.0 + 0.5) / 2.0).abs() < 1e-9);
        assert_eq!(m.confusion["story"]["task"], 1);
        assert_eq!(m.by_form["free"].n, 5);
    }
}

/// Accuracy and macro-F1 from a confusion matrix (`conf[gold][predicted]`); classes with no
/// gold row and no prediction are left out of the macro average.
pub fn accuracy_and_macro_f1(conf: &[Vec<usize>]) -> (f64, f64) {
    let n = conf.len();
    let total: usize = conf.iter().flatten().sum();
    let correct: usize = (0..n).map(|i| conf[i][i]).sum();
    let mut f1s = Vec::new();
    for (c, row) in conf.iter().enumerate() {
        let tp = row[c] as f64;
        let gold: usize = row.iter().sum();
        let pred: usize = (0..n).map(|g| conf[g][c]).sum();
        if gold == 0 && pred == 0 {
            continue;
        }
        let p = if pred == 0 { 0.0 } else { tp / pred as f64 };
        let r = if gold == 0 { 0.0 } else { tp / gold as f64 };
        f1s.push(if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        });
    }
    let acc = if total == 0 {
        0.0
    } else {
        correct as f64 / total as f64
    };
    let macro_f1 = if f1s.is_empty() {
        0.0
    } else {
        f1s.iter().sum::<f64>() / f1s.len() as f64
    };
    (acc, macro_f1)
}

/// One confidence bin of a reliability table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReliabilityBin {
    /// Confidence range `[low, high)` (the last bin includes 1.0).
    pub low: f64,
    pub high: f64,
    pub count: usize,
    /// Mean confidence and accuracy of the predictions in the bin.
    pub confidence: f64,
    pub accuracy: f64,
}

/// Expected calibration error and the reliability table, from each prediction's confidence
/// (probability of its label) and whether it was right. Binary confidences start at 0.5, so the
/// bins cover [0.5, 1] in `bins` equal steps.
pub fn calibration(
    confidence: &[f32],
    correct: &[bool],
    bins: usize,
) -> (f64, Vec<ReliabilityBin>) {
    let bins = bins.max(1);
    let width = 0.5 / bins as f64;
    let mut table: Vec<ReliabilityBin> = (0..bins)
        .map(|b| ReliabilityBin {
            low: 0.5 + b as f64 * width,
            high: 0.5 + (b + 1) as f64 * width,
            count: 0,
            confidence: 0.0,
            accuracy: 0.0,
        })
        .collect();
    for (&c, &ok) in confidence.iter().zip(correct) {
        let b = (((c as f64) - 0.5) / width)
            .floor()
            .clamp(0.0, (bins - 1) as f64) as usize;
        table[b].count += 1;
        table[b].confidence += c as f64;
        table[b].accuracy += f64::from(u8::from(ok));
    }
    let n = confidence.len().max(1) as f64;
    let mut ece = 0.0;
    for b in &mut table {
        if b.count > 0 {
            b.confidence /= b.count as f64;
            b.accuracy /= b.count as f64;
            ece += b.count as f64 / n * (b.accuracy - b.confidence).abs();
        }
    }
    (ece, table)
}

#[cfg(test)]
mod calibration_tests {
    use super::*;

    #[test]
    fn perfectly_calibrated_bins_have_zero_error() {
        // 0.75 confidence, right three times in four.
        let (ece, table) = calibration(&[0.75; 4], &[true, true, true, false], 5);
        assert!(ece.abs() < 1e-9, "{ece}");
        assert_eq!(table.iter().map(|b| b.count).sum::<usize>(), 4);
        let (ece, _) = calibration(&[0.95, 0.95], &[false, false], 5);
        assert!((ece - 0.95).abs() < 1e-6);
    }
}
